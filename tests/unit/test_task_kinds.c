/* test_task_kinds.c — task kinds defined by a model plugin (model ABI 1.3): lookup after
 * the built-in kinds, stepping through task_kinds by the plugin's task_def_size, and the
 * descriptor rules eg_model_check_tasks enforces (each with its message). */
#include <stddef.h>
#include <string.h>

#include "check.h"
#include "engram/host.h"
#include "spec/task_kinds.h"

static const eg_param_spec keys[] = {
    {"rounds", EG_PARAM_INT, "3", EG_RANGE_MIN, 1, 0, NULL, "", "rounds"},
};

/* a plugin built against a later SDK whose eg_task_def has one more field */
typedef struct wider_task_def {
    eg_task_def def;
    const char *later_field;
} wider_task_def;

static eg_model_desc desc_with(const eg_task_def *kinds, int n, uint32_t size, const char *const *tasks, int n_tasks) {
    eg_model_desc d = {.abi_major = EG_MODEL_ABI_MAJOR, .abi_minor = 3, .struct_size = sizeof(eg_model_desc),
                       .name = "m", .tasks = tasks, .n_tasks = n_tasks, .task_kinds = kinds,
                       .n_task_kinds = n, .task_def_size = size};
    return d;
}

static void expect_refused(const eg_model_desc *d, const char *needle) {
    char err[512] = "";
    CHECK(eg_model_check_tasks(d, err, sizeof err) == EG_ERR_ABI);
    CHECK_STR_CONTAINS(err, needle);
}

int main(void) {
    char err[512];
    const char *const own[] = {"rounds-game", "retrieve"};
    const eg_task_def kinds[] = {{"rounds-game", "a game of rounds", keys, 1, NULL}};
    eg_model_desc d = desc_with(kinds, 1, sizeof(eg_task_def), own, 2);
    CHECK_MSG(eg_model_check_tasks(&d, err, sizeof err) == EG_OK, "%s", err);
    CHECK(eg_model_task_def_count(&d) == 1 && eg_model_task_def_at(&d, 0) == &kinds[0]);
    CHECK(eg_model_task_def(&d, "rounds-game") == &kinds[0]);
    CHECK(eg_model_task_def(&d, "retrieve") == eg_task_def_find("retrieve")); /* built-in first */
    CHECK(eg_model_task_def(&d, "nope") == NULL && eg_model_task_def_at(&d, 1) == NULL);
    int n = 0;
    CHECK(eg_task_schema(&d, "rounds-game", &n) == keys && n == 1);

    /* stepped by the plugin's own size: the second kind of a wider array is found */
    const wider_task_def wide[] = {{{"first", "", keys, 1, NULL}, "x"}, {{"second", "", keys, 1, NULL}, "y"}};
    const char *const wide_tasks[] = {"second"};
    eg_model_desc w = desc_with(&wide[0].def, 2, sizeof(wider_task_def), wide_tasks, 1);
    CHECK(eg_model_check_tasks(&w, err, sizeof err) == EG_OK);
    CHECK(eg_model_task_def(&w, "second") == &wide[1].def);

    /* a descriptor of 1.2 has no task_kinds: nothing is read past its struct_size, and a kind it
       lists that is not built in (its keys in task_params) stays allowed */
    eg_model_desc old = d;
    old.abi_minor = 2;
    old.struct_size = (uint32_t)offsetof(eg_model_desc, task_kinds);
    const char *const legacy[] = {"fit"};
    old.tasks = legacy;
    old.n_tasks = 1;
    CHECK(eg_model_task_def_count(&old) == 0 && eg_model_task_def(&old, "rounds-game") == NULL);
    CHECK(eg_model_check_tasks(&old, err, sizeof err) == EG_OK);

    /* the rules */
    const eg_task_def builtin_name[] = {{"retrieve", "", keys, 1, NULL}};
    eg_model_desc b = desc_with(builtin_name, 1, sizeof(eg_task_def), own + 1, 1);
    expect_refused(&b, "task kind 1 ('retrieve') has the name of a built-in kind");
    const eg_task_def twice[] = {{"a", "", keys, 1, NULL}, {"a", "", keys, 1, NULL}};
    eg_model_desc t = desc_with(twice, 2, sizeof(eg_task_def), NULL, 0);
    expect_refused(&t, "task kind 2 ('a') is defined twice");
    const eg_param_spec kind_key[] = {{"kind", EG_PARAM_STRING, "", 0, 0, 0, NULL, "", ""}};
    const eg_task_def bad_key[] = {{"a", "", kind_key, 1, NULL}};
    eg_model_desc k = desc_with(bad_key, 1, sizeof(eg_task_def), NULL, 0);
    expect_refused(&k, "has a schema key that is empty or 'kind'");
    const char *const unknown[] = {"rounds-gmae"};
    eg_model_desc u = desc_with(kinds, 1, sizeof(eg_task_def), unknown, 1);
    expect_refused(&u, "lists task kind 'rounds-gmae', which is neither built in");
    eg_model_desc s = desc_with(kinds, 1, 8, own, 1);
    expect_refused(&s, "task_def_size is too small");
    eg_model_desc z = desc_with(NULL, 1, sizeof(eg_task_def), NULL, 0);
    expect_refused(&z, "task_kinds is NULL");
    return eg_test_finish();
}
