# ONNX Runtime as the judge: a small runner library, whole-model comparisons (ort_judge_test)
# and fp32 latency against ORT (shrink-bench). SHRINK_ASSETS (top CMakeLists.txt) is the kit.

add_library(shrink_ort_runner test_inputs.cc output_compare.cc)
target_include_directories(shrink_ort_runner PUBLIC ${PROJECT_SOURCE_DIR})
target_link_libraries(shrink_ort_runner PUBLIC shrink_engine shrink_ort)
target_compile_definitions(shrink_ort_runner PRIVATE
  SHRINK_ASSETS_DIR="${SHRINK_ASSETS}"
  SHRINK_SHARED_MODELS_DIR="${SHRINK_SHARED_DIR}/models")

add_executable(ort_judge_test ort_judge_test.cc)
target_link_libraries(ort_judge_test PRIVATE shrink_ort_runner GTest::gtest_main)
gtest_discover_tests(ort_judge_test DISCOVERY_TIMEOUT 60 PROPERTIES TIMEOUT 900)

add_executable(shrink-bench bench/shrink_bench.cc bench/quant_bench.cc bench/quant_bench_sections.cc
  bench/quant_bench_util.cc)
target_link_libraries(shrink-bench PRIVATE shrink_ort_runner shrink_cli_lib)
# Short version of the quantization bench in the main suite: every preset on the MNIST models.
add_test(NAME quant_bench_mnist_smoke COMMAND shrink-bench quant mnist --runs 3)
set_tests_properties(quant_bench_mnist_smoke PROPERTIES TIMEOUT 600)
# `shrink-bench service` against a real shrinkd (submits/s, MB/s, RSS).
target_sources(shrink-bench PRIVATE bench/service_bench.cc bench/service_bench_util.cc)
target_compile_definitions(shrink-bench PRIVATE SHRINKD_BINARY="$<TARGET_FILE:shrinkd>"
  SHRINK_SHARED_MODELS_DIR="${SHRINK_SHARED_DIR}/models")
add_dependencies(shrink-bench shrinkd)
add_test(NAME service_bench_smoke COMMAND shrink-bench service --quick)
set_tests_properties(service_bench_smoke PROPERTIES TIMEOUT 300)

# Where quantization error enters: per-tensor SQNR of a float model against its optimized form.
add_executable(shrink-quant-diff tools/quant_diff.cc)
target_link_libraries(shrink-quant-diff PRIVATE shrink_engine)

# Our runtime against ORT on any model: shrink-ort-compare MODEL.onnx [--input DATA.npz]
add_executable(shrink-ort-compare tools/ort_compare.cc)
target_link_libraries(shrink-ort-compare PRIVATE shrink_ort_runner shrink_cli_lib)

# --- k/opset: opset upgrade and opset-18 / IR-10 models against ORT ---
add_executable(opset_ort_test opset_ort_test.cc
  ${PROJECT_SOURCE_DIR}/engine/io/opset_test_models.cc
  ${PROJECT_SOURCE_DIR}/engine/passes/opset_upgrade_cases.cc)
target_link_libraries(opset_ort_test PRIVATE shrink_ort_runner shrink_engine_test_util
                                             GTest::gtest_main)
gtest_discover_tests(opset_ort_test DISCOVERY_TIMEOUT 60 PROPERTIES TIMEOUT 900)
# --- end k/opset ---
# --- float16 conversion (k/fp16): ORT kernel probe and whole-model fp16 checks ---
add_executable(float16_ort_test float16_ort_test.cc)
target_link_libraries(float16_ort_test PRIVATE shrink_ort_runner shrink_engine_test_util
                                               GTest::gtest_main)
gtest_discover_tests(float16_ort_test DISCOVERY_TIMEOUT 60 PROPERTIES TIMEOUT 900)
# --- end float16 conversion ---
# --- k/calib: calibration cost against ORT and plain runs ---
add_executable(shrink-calib-bench bench/calib_bench.cc)
target_link_libraries(shrink-calib-bench PRIVATE shrink_ort_runner)
# --- end k/calib ---
# --- k/qdq: quantizers judged by ORT (fixtures + shared MNIST models; prints accuracy/latency) ---
add_executable(qdq_ort_test qdq_ort_test.cc)
target_link_libraries(qdq_ort_test PRIVATE shrink_ort_runner shrink_engine_test_util GTest::gtest_main)
gtest_discover_tests(qdq_ort_test DISCOVERY_TIMEOUT 60 PROPERTIES TIMEOUT 900)
# --- end k/qdq ---

# The service end to end: real shrinkd, shrink-worker and shrink processes on loopback.
add_executable(service_e2e_test service_e2e_test.cc)
target_link_libraries(service_e2e_test PRIVATE shrink_ort_runner shrink_client shrink_storage
  GTest::gtest_main)
target_compile_definitions(service_e2e_test PRIVATE
  SHRINKD_BINARY="$<TARGET_FILE:shrinkd>"
  SHRINK_WORKER_BINARY="$<TARGET_FILE:shrink-worker>"
  SHRINK_BINARY="$<TARGET_FILE:shrink>"
  SHRINK_ASSETS_DIR="${SHRINK_ASSETS}"
  SHRINK_SHARED_MODELS_DIR="${SHRINK_SHARED_DIR}/models")
add_dependencies(service_e2e_test shrinkd shrink-worker shrink)
gtest_discover_tests(service_e2e_test DISCOVERY_TIMEOUT 60 PROPERTIES TIMEOUT 600)
# The evaluator in ONNX Runtime (README counts, int8 drop, latency) and its cost.
add_executable(eval_ort_test eval_ort_test.cc)
target_link_libraries(eval_ort_test PRIVATE shrink_ort_runner GTest::gtest_main)
gtest_discover_tests(eval_ort_test DISCOVERY_TIMEOUT 60 PROPERTIES TIMEOUT 900)
target_sources(shrink-bench PRIVATE bench/eval_bench.cc bench/compress_bench.cc)
add_test(NAME eval_bench_smoke COMMAND shrink-bench eval --samples 500 --reps 1)
set_tests_properties(eval_bench_smoke PROPERTIES TIMEOUT 600)
# Clustered MNIST models in ORT and ours; sizes and accuracy table.
add_executable(cluster_ort_test cluster_ort_test.cc)
target_link_libraries(cluster_ort_test PRIVATE shrink_ort_runner GTest::gtest_main)
gtest_discover_tests(cluster_ort_test DISCOVERY_TIMEOUT 60 PROPERTIES TIMEOUT 900)
# Pruned MNIST models in ORT against our runtime.
add_executable(prune_ort_test prune_ort_test.cc)
target_link_libraries(prune_ort_test PRIVATE shrink_ort_runner GTest::gtest_main)
target_compile_definitions(prune_ort_test PRIVATE SHRINK_ASSETS_DIR="${SHRINK_ASSETS}"
  SHRINK_SHARED_MODELS_DIR="${SHRINK_SHARED_DIR}/models")
gtest_discover_tests(prune_ort_test DISCOVERY_TIMEOUT 60 PROPERTIES TIMEOUT 900)

# TLS (and mutual TLS) between the CLI, shrinkd and workers; shrink admin backup while jobs run.
add_executable(service_tls_test service_tls_test.cc)
target_link_libraries(service_tls_test PRIVATE shrink_client shrink_storage GTest::gtest_main)
target_compile_definitions(service_tls_test PRIVATE
  SHRINKD_BINARY="$<TARGET_FILE:shrinkd>"
  SHRINK_WORKER_BINARY="$<TARGET_FILE:shrink-worker>"
  SHRINK_BINARY="$<TARGET_FILE:shrink>"
  SHRINK_SHARED_MODELS_DIR="${SHRINK_SHARED_DIR}/models")
add_dependencies(service_tls_test shrinkd shrink-worker shrink)
gtest_discover_tests(service_tls_test DISCOVERY_TIMEOUT 60 PROPERTIES TIMEOUT 600)
