/* signame.h — the name of a signal ("SIGSEGV") for messages about dead processes. */
#ifndef EG_BASE_SIGNAME_H
#define EG_BASE_SIGNAME_H
const char *eg_signal_name(int sig);
#endif
