// Debian's OpenBLAS CBLAS interface (pkg-config: openblas).
#include <cblas.h>
