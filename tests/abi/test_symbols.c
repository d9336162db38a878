/* Links a C program against every public function: a function declared but
 * not exported (or exported under another name) fails to link. */
#include <stdio.h>

#include <lashup/lashup.h>

typedef void (*any_function)(void);

int main(void) {
  const any_function functions[] = {
      (any_function)lashup_version,        (any_function)lashup_version_string,
      (any_function)lashup_strerror,       (any_function)lashup_last_error,
      (any_function)lashup_free,           (any_function)lashup_config_new,
      (any_function)lashup_config_destroy, (any_function)lashup_config_set,
      (any_function)lashup_config_load_file, (any_function)lashup_config_get,
      (any_function)lashup_config_get_int, (any_function)lashup_config_key_count,
      (any_function)lashup_config_key_name,
  };
  for (size_t i = 0; i < sizeof functions / sizeof functions[0]; ++i) {
    if (functions[i] == NULL) return 1;
  }
  printf("%zu public functions linked\n", sizeof functions / sizeof functions[0]);
  return 0;
}
