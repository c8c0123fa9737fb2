#include "engine/quant/qdq_quantizer.h"
