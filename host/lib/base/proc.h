/* proc.h — running a short external command (sbatch, squeue, scontrol) and reading
 * what it prints, with a time limit, without a shell. */
#ifndef EG_BASE_PROC_H
#define EG_BASE_PROC_H
#include <stddef.h>

#include "engram/host.h" /* eg_proc_capture */
#endif
