// The service API's generated code links and round-trips (the server arrives with issue [3/5]).
#include <gtest/gtest.h>

#include "shrink/v1/service.grpc.pb.h"

namespace shrink::v1 {
namespace {

TEST(ServiceProto, ServicesHaveTheirFullNamesAndRequestsRoundTrip) {
  EXPECT_STREQ(JobService::service_full_name(), "shrink.v1.JobService");
  EXPECT_STREQ(WorkerService::service_full_name(), "shrink.v1.WorkerService");
  EXPECT_STREQ(ModelService::service_full_name(), "shrink.v1.ModelService");
  SubmitJobRequest request;
  request.set_model_id("abc");
  request.mutable_recipe()->set_preset("int8");
  request.set_idempotency_key("ci-run-42");
  SubmitJobRequest parsed;
  ASSERT_TRUE(parsed.ParseFromString(request.SerializeAsString()));
  EXPECT_EQ(parsed.recipe().preset(), "int8");
  EXPECT_EQ(parsed.idempotency_key(), "ci-run-42");
  EXPECT_FALSE(LeaseResponse().has_job());  // no job: the field is absent
}

}  // namespace
}  // namespace shrink::v1
