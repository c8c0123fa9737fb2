# ONNX Runtime as the judge: a small runner library, whole-model comparisons (ort_judge_test)
# and fp32 latency against ORT (shrink-bench). SHRINK_ASSETS (top CMakeLists.txt) is the kit.

add_library(shrink_ort_runner ort_runner.cc test_inputs.cc output_compare.cc)
target_include_directories(shrink_ort_runner PUBLIC ${PROJECT_SOURCE_DIR})
target_link_libraries(shrink_ort_runner PUBLIC shrink_engine PRIVATE onnxruntime::onnxruntime)
target_compile_definitions(shrink_ort_runner PRIVATE
  SHRINK_ASSETS_DIR="${SHRINK_ASSETS}"
  SHRINK_SHARED_MODELS_DIR="${SHRINK_SHARED_DIR}/models")

add_executable(ort_judge_test ort_judge_test.cc)
target_link_libraries(ort_judge_test PRIVATE shrink_ort_runner GTest::gtest_main)
gtest_discover_tests(ort_judge_test DISCOVERY_TIMEOUT 60 PROPERTIES TIMEOUT 900)

add_executable(shrink-bench bench/shrink_bench.cc)
target_link_libraries(shrink-bench PRIVATE shrink_ort_runner)

# Our runtime against ORT on any model: shrink-ort-compare MODEL.onnx [--input DATA.npz]
add_executable(shrink-ort-compare tools/ort_compare.cc)
target_link_libraries(shrink-ort-compare PRIVATE shrink_ort_runner shrink_cli_lib)

# --- k/qdq: quantizers judged by ORT (fixtures + shared MNIST models; prints accuracy/latency) ---
add_executable(qdq_ort_test qdq_ort_test.cc)
target_link_libraries(qdq_ort_test PRIVATE shrink_ort_runner shrink_engine_test_util GTest::gtest_main)
gtest_discover_tests(qdq_ort_test DISCOVERY_TIMEOUT 60 PROPERTIES TIMEOUT 900)
# --- end k/qdq ---
