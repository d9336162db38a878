#include "tests/unit/transport/test_pki.h"

#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <stdexcept>

namespace lashup::runtime::testing {
namespace {

void require(bool condition, const char* what) {
  if (!condition) throw std::runtime_error(std::string("test PKI: ") + what);
}

EVP_PKEY* new_key() {
  EVP_PKEY* key = EVP_PKEY_Q_keygen(nullptr, nullptr, "EC", "P-256");
  require(key != nullptr, "EVP_PKEY_Q_keygen");
  return key;
}

void add_extension(X509* cert, X509* issuer, int nid, const char* value) {
  X509V3_CTX ctx;
  X509V3_set_ctx_nodb(&ctx);
  X509V3_set_ctx(&ctx, issuer, cert, nullptr, nullptr, 0);
  X509_EXTENSION* ext = X509V3_EXT_conf_nid(nullptr, &ctx, nid, value);
  require(ext != nullptr, "X509V3_EXT_conf_nid");
  X509_add_ext(cert, ext, -1);
  X509_EXTENSION_free(ext);
}

// Signs with issuer_key; a self-signed certificate when issuer is null.
X509* make_certificate(EVP_PKEY* key, const std::string& common_name, X509* issuer, EVP_PKEY* issuer_key, bool is_ca,
                       const std::string& dns_name) {
  static long serial = 1;
  X509* cert = X509_new();
  X509_set_version(cert, 2);
  ASN1_INTEGER_set(X509_get_serialNumber(cert), serial++);
  X509_gmtime_adj(X509_getm_notBefore(cert), -3600);
  X509_gmtime_adj(X509_getm_notAfter(cert), 3600L * 24);
  X509_set_pubkey(cert, key);
  X509_NAME* name = X509_get_subject_name(cert);
  X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC, reinterpret_cast<const unsigned char*>(common_name.c_str()), -1,
                             -1, 0);
  X509_set_issuer_name(cert, issuer != nullptr ? X509_get_subject_name(issuer) : name);
  X509* signer = issuer != nullptr ? issuer : cert;
  if (is_ca) {
    add_extension(cert, signer, NID_basic_constraints, "critical,CA:TRUE");
    add_extension(cert, signer, NID_key_usage, "critical,keyCertSign,cRLSign");
  } else {
    add_extension(cert, signer, NID_basic_constraints, "CA:FALSE");
    if (!dns_name.empty()) add_extension(cert, signer, NID_subject_alt_name, ("DNS:" + dns_name).c_str());
  }
  require(X509_sign(cert, issuer_key != nullptr ? issuer_key : key, EVP_sha256()) > 0, "X509_sign");
  return cert;
}

void write_certificate(const std::filesystem::path& path, X509* cert) {
  FILE* f = std::fopen(path.c_str(), "w");
  require(f != nullptr && PEM_write_X509(f, cert) == 1, "write certificate");
  std::fclose(f);
}

void write_key(const std::filesystem::path& path, EVP_PKEY* key) {
  FILE* f = std::fopen(path.c_str(), "w");
  require(f != nullptr && PEM_write_PrivateKey(f, key, nullptr, nullptr, 0, nullptr, nullptr) == 1, "write key");
  std::fclose(f);
}

template <typename T>
T* read_pem(const std::filesystem::path& path, T* (*reader)(FILE*, T**, pem_password_cb*, void*)) {
  FILE* f = std::fopen(path.c_str(), "r");
  require(f != nullptr, "open PEM");
  T* out = reader(f, nullptr, nullptr, nullptr);
  std::fclose(f);
  require(out != nullptr, "read PEM");
  return out;
}

void create_ca(const std::filesystem::path& directory, const std::string& label) {
  EVP_PKEY* key = new_key();
  X509* cert = make_certificate(key, label, nullptr, nullptr, /*is_ca=*/true, "");
  write_certificate(directory / (label + ".pem"), cert);
  write_key(directory / (label + ".key"), key);
  X509_free(cert);
  EVP_PKEY_free(key);
}

TlsMaterial issue_with(const std::filesystem::path& directory, const std::string& ca_label, const std::string& label,
                       const std::string& dns_name, const std::string& common_name) {
  X509* ca = read_pem<X509>(directory / (ca_label + ".pem"), PEM_read_X509);
  EVP_PKEY* ca_key = read_pem<EVP_PKEY>(directory / (ca_label + ".key"), PEM_read_PrivateKey);
  EVP_PKEY* key = new_key();
  X509* cert = make_certificate(key, common_name, ca, ca_key, /*is_ca=*/false, dns_name);
  TlsMaterial material{(directory / (label + ".pem")).string(), (directory / (label + ".key")).string(),
                       (directory / (ca_label + ".pem")).string()};
  write_certificate(material.cert_file, cert);
  write_key(material.key_file, key);
  X509_free(cert);
  EVP_PKEY_free(key);
  EVP_PKEY_free(ca_key);
  X509_free(ca);
  return material;
}

}  // namespace

TestPki::TestPki() {
  std::string pattern = (std::filesystem::temp_directory_path() / "lashup-pki-XXXXXX").string();
  require(mkdtemp(pattern.data()) != nullptr, "mkdtemp");
  directory_ = pattern;
  create_ca(directory_, "ca");
}

TestPki::~TestPki() {
  std::error_code ignored;
  std::filesystem::remove_all(directory_, ignored);
}

TlsMaterial TestPki::issue(const std::string& label, const std::string& dns_name, const std::string& common_name) {
  return issue_with(directory_, "ca", label, dns_name, common_name);
}

TlsMaterial TestPki::issue_by_other_ca(const std::string& label, const std::string& dns_name) {
  if (!std::filesystem::exists(directory_ / "other-ca.pem")) create_ca(directory_, "other-ca");
  return issue_with(directory_, "other-ca", label, dns_name, "node");
}

}  // namespace lashup::runtime::testing
