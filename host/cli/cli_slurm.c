/* cli_slurm.c — the shard of a Slurm array task, read from Slurm's environment. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

static int env_int(const char *name, int *out) {
    const char *e = getenv(name);
    char *end;
    if (!e || !*e) return -1;
    long v = strtol(e, &end, 10);
    if (*end || v < 0 || v > 1000000000) return -1;
    *out = (int)v;
    return 0;
}

int cli_slurm_shard(const char *cmd, cli_args *a) {
    int id, count, min = 0, step = 1;
    int in_array = env_int("SLURM_ARRAY_TASK_ID", &id) == 0;
    if (!a->shard_slurm) {
        const char *off = getenv("ENGRAM_SLURM_SHARD");
        if (a->shard_n > 0 || !in_array || (off && strcmp(off, "0") == 0)) return 0;
    }
    if (!in_array || env_int("SLURM_ARRAY_TASK_COUNT", &count) != 0 || count < 1)
        return cli_usage_error(cmd, "--shard slurm needs a Slurm array task (SLURM_ARRAY_TASK_ID and "
                                    "SLURM_ARRAY_TASK_COUNT are %s)",
                               in_array ? "not both set" : "not set");
    env_int("SLURM_ARRAY_TASK_MIN", &min);
    if (env_int("SLURM_ARRAY_TASK_STEP", &step) != 0 || step < 1) step = 1;
    int i = (id - min) / step; /* --array=1-7:2 numbers its tasks 1,3,5,7: shards 0..3 */
    if (id < min || i >= count)
        return cli_usage_error(cmd, "Slurm array task %d is not one of the %d tasks from %d in steps of %d", id, count,
                               min, step);
    a->shard_i = i;
    a->shard_n = count;
    fprintf(stderr, "engram: Slurm array task %d: shard %d/%d%s\n", id, i, count,
            a->shard_slurm ? "" : " (inside an array task; ENGRAM_SLURM_SHARD=0 runs every run)");
    return 0;
}
