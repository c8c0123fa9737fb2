#include "engine/sparsity/prune.h"
#include <gtest/gtest.h>
TEST(Prune, Placeholder) {}
