// TLS context of the transport: TLS 1.3 only, both sides present a
// certificate verified against the cluster CA, and a certificate names a node
// by the rule of certificate_names_node(). OPENSSL_cleanup is never called:
// other code in the process (the application, other libraries) may use OpenSSL.
#pragma once

#include <openssl/ssl.h>
#include <openssl/x509.h>

#include <memory>
#include <string>
#include <string_view>

#include "core/common/status.h"
#include "runtime/transport/transport.h"

namespace lashup::runtime {

struct SslCtxFree {
  void operator()(SSL_CTX* ctx) const { SSL_CTX_free(ctx); }
};
using SslCtxPtr = std::unique_ptr<SSL_CTX, SslCtxFree>;

// A context for both accepting and connecting, with our certificate and key
// loaded and the CA as the only trust anchor. Fails if a file is unreadable,
// if the key does not match the certificate, if the certificate is not signed
// by the CA, or if it does not name node_name.
Result<SslCtxPtr> make_tls_context(const TlsMaterial& material, std::string_view node_name);

// The naming rule: if the certificate has subjectAltName DNS entries, one of
// them must equal node_name; only if it has none, a subject common name must
// equal it. Comparison is exact (byte for byte, case-sensitive), without
// wildcards, because node names are identifiers, not host names.
Status certificate_names_node(X509* certificate, std::string_view node_name);

// The pending OpenSSL errors as one line (and clears them).
std::string take_openssl_errors();

}  // namespace lashup::runtime
