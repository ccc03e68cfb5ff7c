#ifndef TRAINSET_CPNG_SHIM_H
#define TRAINSET_CPNG_SHIM_H
#include <png.h>
#endif
