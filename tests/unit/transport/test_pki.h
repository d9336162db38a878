// A throwaway public-key infrastructure for transport tests: a CA and node
// certificates (EC P-256, subjectAltName DNS:<name>) written as PEM files into
// a temporary directory that is removed with the object.
#pragma once

#include <filesystem>
#include <string>

#include "runtime/transport/transport.h"

namespace lashup::runtime::testing {

class TestPki {
 public:
  TestPki();  // creates the directory and the CA "ca"
  ~TestPki();
  TestPki(const TestPki&) = delete;
  TestPki& operator=(const TestPki&) = delete;

  // A certificate for `dns_name` signed by this CA, stored under `label`.
  // An empty dns_name makes a certificate with only a common name `common_name`.
  TlsMaterial issue(const std::string& label, const std::string& dns_name, const std::string& common_name = "node");
  // A certificate signed by a second, unrelated CA (whose file is `ca_file`).
  TlsMaterial issue_by_other_ca(const std::string& label, const std::string& dns_name);
  const std::filesystem::path& directory() const { return directory_; }
  std::string ca_file() const { return (directory_ / "ca.pem").string(); }

 private:
  std::filesystem::path directory_;
};

}  // namespace lashup::runtime::testing
