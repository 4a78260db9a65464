#pragma once
// The x86 instruction-set features an ahead-of-time object may require, and how the running
// CPU reports each (cpuid, and xgetbv for the register state the OS must save). One table
// serves both sides: the compiler asks LLVM which of these names the target CPU has and
// writes them into the header; nnc_aot_create checks them here, in the runtime library,
// which is compiled for baseline x86-64 and so runs anywhere.
#include <string>
#include <string_view>

namespace nnc::aot {

enum class CpuidReg { Eax, Ebx, Ecx, Edx };
// The register state a feature's instructions use, which the OS must enable in XCR0.
enum class VectorState { None, Ymm, Zmm };

struct CpuFeature {
  const char* name;  // LLVM's name ("avx2", "avx512f")
  unsigned leaf, subleaf;
  CpuidReg reg;
  unsigned bit;
  VectorState state;
};

inline constexpr CpuFeature kCpuFeatures[] = {
    {"sse3", 1, 0, CpuidReg::Ecx, 0, VectorState::None},
    {"pclmul", 1, 0, CpuidReg::Ecx, 1, VectorState::None},
    {"ssse3", 1, 0, CpuidReg::Ecx, 9, VectorState::None},
    {"fma", 1, 0, CpuidReg::Ecx, 12, VectorState::Ymm},
    {"cx16", 1, 0, CpuidReg::Ecx, 13, VectorState::None},
    {"sse4.1", 1, 0, CpuidReg::Ecx, 19, VectorState::None},
    {"sse4.2", 1, 0, CpuidReg::Ecx, 20, VectorState::None},
    {"movbe", 1, 0, CpuidReg::Ecx, 22, VectorState::None},
    {"popcnt", 1, 0, CpuidReg::Ecx, 23, VectorState::None},
    {"aes", 1, 0, CpuidReg::Ecx, 25, VectorState::None},
    {"xsave", 1, 0, CpuidReg::Ecx, 26, VectorState::None},
    {"avx", 1, 0, CpuidReg::Ecx, 28, VectorState::Ymm},
    {"f16c", 1, 0, CpuidReg::Ecx, 29, VectorState::Ymm},
    {"bmi", 7, 0, CpuidReg::Ebx, 3, VectorState::None},
    {"avx2", 7, 0, CpuidReg::Ebx, 5, VectorState::Ymm},
    {"bmi2", 7, 0, CpuidReg::Ebx, 8, VectorState::None},
    {"avx512f", 7, 0, CpuidReg::Ebx, 16, VectorState::Zmm},
    {"avx512dq", 7, 0, CpuidReg::Ebx, 17, VectorState::Zmm},
    {"adx", 7, 0, CpuidReg::Ebx, 19, VectorState::None},
    {"avx512ifma", 7, 0, CpuidReg::Ebx, 21, VectorState::Zmm},
    {"avx512cd", 7, 0, CpuidReg::Ebx, 28, VectorState::Zmm},
    {"sha", 7, 0, CpuidReg::Ebx, 29, VectorState::None},
    {"avx512bw", 7, 0, CpuidReg::Ebx, 30, VectorState::Zmm},
    {"avx512vl", 7, 0, CpuidReg::Ebx, 31, VectorState::Zmm},
    {"avx512vbmi", 7, 0, CpuidReg::Ecx, 1, VectorState::Zmm},
    {"avx512vbmi2", 7, 0, CpuidReg::Ecx, 6, VectorState::Zmm},
    {"gfni", 7, 0, CpuidReg::Ecx, 8, VectorState::None},
    {"vaes", 7, 0, CpuidReg::Ecx, 9, VectorState::Ymm},
    {"vpclmulqdq", 7, 0, CpuidReg::Ecx, 10, VectorState::Ymm},
    {"avx512vnni", 7, 0, CpuidReg::Ecx, 11, VectorState::Zmm},
    {"avx512bitalg", 7, 0, CpuidReg::Ecx, 12, VectorState::Zmm},
    {"avx512vpopcntdq", 7, 0, CpuidReg::Ecx, 14, VectorState::Zmm},
    {"avxvnni", 7, 1, CpuidReg::Eax, 4, VectorState::Ymm},
    {"avx512bf16", 7, 1, CpuidReg::Eax, 5, VectorState::Zmm},
    {"lzcnt", 0x80000001, 0, CpuidReg::Ecx, 5, VectorState::None},
    {"sse4a", 0x80000001, 0, CpuidReg::Ecx, 6, VectorState::None},
};

// The names in `required` (comma-separated, as the header lists them) that this CPU lacks,
// comma-separated; empty when it has them all. Names not in kCpuFeatures are not checked.
// Test hook: NNC_AOT_HIDE_CPU_FEATURES=avx2,fma makes this CPU look as if it lacked those.
std::string missingCpuFeatures(std::string_view required);

}  // namespace nnc::aot
