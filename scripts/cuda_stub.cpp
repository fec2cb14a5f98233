// Stands in for libtorch_cuda.so in a CPU-only install (scripts/install.sh PREFIX cpu). The
// binary's tch wrapper refers to these two functions of libtorch_cuda, on CUDA code paths only;
// without the real library libtorch registers no CUDA device, so claimex never reaches them
// (device = "cuda" is refused first). Everything else comes from libtorch_cpu.
#include <stdexcept>

namespace at {
namespace cuda {
struct cublasContext;

cublasContext* getCurrentCUDABlasHandle() {
    throw std::runtime_error("this claimex was installed without CUDA libraries");
}

int warp_size() {
    throw std::runtime_error("this claimex was installed without CUDA libraries");
}
}  // namespace cuda
}  // namespace at
