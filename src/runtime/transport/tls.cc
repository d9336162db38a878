#include "runtime/transport/tls.h"

#include <openssl/err.h>
#include <openssl/x509v3.h>

namespace lashup::runtime {
namespace {

bool asn1_equals(const ASN1_STRING* value, std::string_view name) {
  const int length = ASN1_STRING_length(value);
  // The length comparison also rejects names with an embedded NUL.
  return length >= 0 && static_cast<size_t>(length) == name.size() &&
         name.compare(0, name.size(), reinterpret_cast<const char*>(ASN1_STRING_get0_data(value)),
                      static_cast<size_t>(length)) == 0;
}

Status verify_against_ca(SSL_CTX* ctx, X509* certificate) {
  X509_STORE_CTX* verify = X509_STORE_CTX_new();
  if (verify == nullptr) return Status::internal("X509_STORE_CTX_new failed");
  STACK_OF(X509)* chain = nullptr;
  SSL_CTX_get0_chain_certs(ctx, &chain);
  Status result;
  if (X509_STORE_CTX_init(verify, SSL_CTX_get_cert_store(ctx), certificate, chain) != 1) {
    result = Status::internal("X509_STORE_CTX_init failed: " + take_openssl_errors());
  } else if (X509_verify_cert(verify) != 1) {
    result = Status::invalid(std::string("certificate is not signed by the CA: ") +
                             X509_verify_cert_error_string(X509_STORE_CTX_get_error(verify)));
  }
  X509_STORE_CTX_free(verify);
  ERR_clear_error();
  return result;
}

}  // namespace

std::string take_openssl_errors() {
  std::string out;
  char line[256];
  while (unsigned long code = ERR_get_error()) {
    ERR_error_string_n(code, line, sizeof line);
    if (!out.empty()) out += "; ";
    out += line;
  }
  return out.empty() ? "no OpenSSL error reported" : out;
}

Status certificate_names_node(X509* certificate, std::string_view node_name) {
  if (certificate == nullptr) return Status::invalid("no certificate");
  auto* alt_names = static_cast<GENERAL_NAMES*>(X509_get_ext_d2i(certificate, NID_subject_alt_name, nullptr, nullptr));
  bool has_dns = false;
  bool named = false;
  if (alt_names != nullptr) {
    for (int i = 0; i < sk_GENERAL_NAME_num(alt_names); ++i) {
      const GENERAL_NAME* entry = sk_GENERAL_NAME_value(alt_names, i);
      if (entry->type != GEN_DNS) continue;
      has_dns = true;
      if (asn1_equals(entry->d.dNSName, node_name)) named = true;
    }
    GENERAL_NAMES_free(alt_names);
  }
  if (has_dns) {
    if (named) return Status::ok();
    return Status::invalid("certificate has no subjectAltName DNS entry '" + std::string(node_name) + "'");
  }
  const X509_NAME* subject = X509_get_subject_name(certificate);
  for (int i = X509_NAME_get_index_by_NID(subject, NID_commonName, -1); i >= 0;
       i = X509_NAME_get_index_by_NID(subject, NID_commonName, i)) {
    if (asn1_equals(X509_NAME_ENTRY_get_data(X509_NAME_get_entry(subject, i)), node_name)) return Status::ok();
  }
  return Status::invalid("certificate has neither a subjectAltName DNS entry nor a common name '" +
                         std::string(node_name) + "'");
}

Result<SslCtxPtr> make_tls_context(const TlsMaterial& material, std::string_view node_name) {
  ERR_clear_error();
  SslCtxPtr ctx(SSL_CTX_new(TLS_method()));
  if (!ctx) return Status::internal("SSL_CTX_new failed: " + take_openssl_errors());
  SSL_CTX_set_min_proto_version(ctx.get(), TLS1_3_VERSION);
  SSL_CTX_set_max_proto_version(ctx.get(), TLS1_3_VERSION);
  // Connections are long-lived and never resumed: no session tickets.
  SSL_CTX_set_num_tickets(ctx.get(), 0);
  SSL_CTX_set_options(ctx.get(), SSL_OP_NO_TICKET);
  SSL_CTX_set_session_cache_mode(ctx.get(), SSL_SESS_CACHE_OFF);
  SSL_CTX_set_mode(ctx.get(), SSL_MODE_ENABLE_PARTIAL_WRITE | SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
  SSL_CTX_set_verify(ctx.get(), SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT, nullptr);

  if (SSL_CTX_use_certificate_chain_file(ctx.get(), material.cert_file.c_str()) != 1) {
    return Status::io("cannot load certificate file '" + material.cert_file + "': " + take_openssl_errors());
  }
  if (SSL_CTX_use_PrivateKey_file(ctx.get(), material.key_file.c_str(), SSL_FILETYPE_PEM) != 1) {
    if (ERR_GET_REASON(ERR_peek_last_error()) == X509_R_KEY_VALUES_MISMATCH) {
      return Status::invalid("key file '" + material.key_file + "' does not match certificate '" + material.cert_file +
                             "'");
    }
    return Status::io("cannot load key file '" + material.key_file + "': " + take_openssl_errors());
  }
  if (SSL_CTX_check_private_key(ctx.get()) != 1) {
    return Status::invalid("key file '" + material.key_file + "' does not match certificate '" + material.cert_file +
                           "': " + take_openssl_errors());
  }
  if (SSL_CTX_load_verify_locations(ctx.get(), material.ca_file.c_str(), nullptr) != 1) {
    return Status::io("cannot load CA file '" + material.ca_file + "': " + take_openssl_errors());
  }
  X509* ours = SSL_CTX_get0_certificate(ctx.get());
  if (Status s = verify_against_ca(ctx.get(), ours); !s) {
    return Status::invalid("'" + material.cert_file + "': " + s.message() + " ('" + material.ca_file + "')");
  }
  if (Status s = certificate_names_node(ours, node_name); !s) {
    return Status::invalid("'" + material.cert_file + "' does not name node '" + std::string(node_name) +
                           "': " + s.message());
  }
  return ctx;
}

}  // namespace lashup::runtime
