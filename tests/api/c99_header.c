/* pocket.h compiles as strict C99 (-std=c99 -pedantic -Werror, tests/api/CMakeLists.txt) and its
 * entry points link and answer without a model: versions, status names, NULL handles. */
#include <pocket.h>
#include <stdio.h>
#include <string.h>

int main(void) {
  pocket_model* model = NULL;
  pocket_model_params mp;
  pocket_generate_params gp;
  int failures = 0;
  if (pocket_api_version() != POCKET_API_VERSION) ++failures;
  if (strcmp(pocket_status_name(POCKET_OK), "ok") != 0) ++failures;
  pocket_model_default_params(&mp);
  if (mp.size != sizeof mp) ++failures;
  pocket_generate_default_params(&gp);
  if (gp.size != sizeof gp || gp.max_tokens != 256) ++failures;
  if (pocket_model_load(NULL, &mp, &model) != POCKET_ERR_INVALID_ARGUMENT || model != NULL) ++failures;
  if (pocket_last_error()[0] == '\0') ++failures;
  if (pocket_session_generate(NULL, &gp, NULL) != POCKET_ERR_INVALID_ARGUMENT) ++failures;
  pocket_model_free(NULL);
  printf("pocket %s (API %d): %d failures\n", pocket_version(), pocket_api_version(), failures);
  return failures == 0 ? 0 : 1;
}
