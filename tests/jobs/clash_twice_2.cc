// Includes clash_twice.h, whose ERRAND_JOB then registers TwiceJob once per file.
#include "clash_twice.h"

int clash_twice_unit_2() { return 2; }
