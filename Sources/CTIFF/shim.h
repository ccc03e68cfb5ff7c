#ifndef TRAINSET_CTIFF_SHIM_H
#define TRAINSET_CTIFF_SHIM_H
#include <tiffio.h>
#endif
