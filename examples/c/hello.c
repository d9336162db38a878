/* The smallest program using liblashup, built with
 *   cc hello.c $(pkg-config --cflags --libs lashup)
 * It prints the library version and validates a configuration. */
#include <stdio.h>

#include <lashup/lashup.h>

int main(void) {
  printf("liblashup %s (header %s)\n", lashup_version_string(), LASHUP_VERSION_STRING);
  lashup_config_t *cfg = NULL;
  if (lashup_config_new(&cfg) != LASHUP_OK) return 1;
  char err[256];
  int rc = lashup_config_set(cfg, "overlay.active_view_size", "100", err, sizeof err);
  printf("setting overlay.active_view_size = 100: %s (%s)\n", lashup_strerror(rc), err);
  rc = lashup_config_set(cfg, "node_name", "hello-1", err, sizeof err);
  lashup_config_destroy(cfg);
  return rc == LASHUP_OK ? 0 : 1;
}
