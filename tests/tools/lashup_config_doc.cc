// Prints docs/CONFIG.md, generated from the configuration table.
#include <iostream>

#include "core/config/config.h"

int main() {
  std::cout << lashup::config::render_markdown();
  return 0;
}
