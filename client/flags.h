// The flag parser and exit codes moved to common/flags.h (the server and the worker use them).
#pragma once

#include "common/flags.h"
