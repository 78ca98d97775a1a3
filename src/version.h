#ifndef PL_VERSION_H
#define PL_VERSION_H
#define POTLUCK_VERSION "0.1.0"
#endif
