// numpy .npy and .npz files <-> Tensors.
//
// Reading accepts npy format versions 1.0, 2.0 and 3.0 with these dtypes, in any byte order
// ('<', '>', '=', '|'; big-endian data is converted to native): f2 f4 f8 i1 u1 i2 u2 i4 u4 i8
// u8 b1 c8 c16, plus fixed-width text 'U<n>' (UTF-32, read into string tensors as UTF-8) and
// bytes 'S<n>' (read into string tensors); string arrays are capped at 2^24 elements.
// fortran_order arrays are converted to C order. Not supported, each with a clear error: object
// arrays (pickles), structured/void dtypes (bfloat16 arrays saved through ml_dtypes appear as
// '|V2'), datetimes.
//
// Writing produces what numpy.save would: format 1.0 (2.0 when the header is too long for
// 1.0), C order, little-endian, string tensors as '<U<n>' (their text must be valid UTF-8;
// numpy strips trailing NUL characters, so those do not round-trip). bfloat16 tensors have no
// numpy dtype code and are rejected: convert them to float32 first.
//
// Inputs are untrusted: malformed files give InvalidArgument (DataLoss for a CRC mismatch,
// ResourceExhausted past a size limit, Unimplemented for valid but unsupported dtypes) with a
// message starting with `what` (and the member name for npz), never a crash or an allocation
// larger than the payload justifies.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"
#include "engine/io/zip.h"
#include "engine/ir/tensor.h"

namespace shrink::engine {

// `what` names the source in error messages, e.g. "data.npz:input.npy".
StatusOr<Tensor> ParseNpy(std::string_view bytes, const std::string& what);
StatusOr<std::string> SerializeNpy(const Tensor& tensor);
StatusOr<Tensor> ReadNpy(const std::string& path);
Status WriteNpy(const std::string& path, const Tensor& tensor);

// NamedTensor (name + tensor) is defined in engine/ir/tensor.h.

// Array names are the member names minus a trailing ".npy", kept verbatim: they may contain
// any character ('/', ':', spaces, non-ASCII) and never refer to the filesystem. Duplicate
// names are an error. Arrays come back in archive order.
StatusOr<std::vector<NamedTensor>> ParseNpz(std::string_view bytes, const std::string& what,
                                            ZipReaderOptions options = {});
StatusOr<std::vector<NamedTensor>> ReadNpz(const std::string& path);

// kStored matches numpy.savez, kDeflate numpy.savez_compressed. The archive is built in memory
// (about one extra copy of the data) and written atomically.
enum class NpzCompression { kStored, kDeflate };
StatusOr<std::string> SerializeNpz(const std::vector<NamedTensor>& arrays,
                                   NpzCompression compression, ZipWriterOptions options = {});
Status WriteNpz(const std::string& path, const std::vector<NamedTensor>& arrays,
                NpzCompression compression);

}  // namespace shrink::engine
