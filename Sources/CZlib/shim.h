// zlib, used to read gzip-compressed data files (pkg-config: zlib).
#include <zlib.h>
