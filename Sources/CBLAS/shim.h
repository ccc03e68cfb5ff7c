#ifndef TRAINSET_CBLAS_SHIM_H
#define TRAINSET_CBLAS_SHIM_H
// OpenBLAS's cblas.h also declares openblas_set_num_threads / openblas_get_config,
// which the tool uses to pin the thread count and to record the library version.
#include <cblas.h>
#endif
