#include <gtest/gtest.h>

#include "engine/kernels/kernel_test_util.h"
