// Philox-4x32-10 (support/Philox.h): published known answers, nnc's uniform and
// dropout-threshold conventions.
#include <gtest/gtest.h>

#include <cmath>

#include "support/Philox.h"

namespace nnc {
namespace {

using philox::Counter;
using philox::Key;

// Known-answer vectors from Random123 (kat_vectors, philox4x32 with 10 rounds).
TEST(InterpPhilox, KnownAnswersOfRandom123) {
  EXPECT_EQ(philox::philox4x32(Counter{0, 0, 0, 0}, Key{0, 0}),
            (Counter{0x6627e8d5u, 0xe169c58du, 0xbc57ac4cu, 0x9b00dbd8u}));
  EXPECT_EQ(philox::philox4x32(Counter{0xffffffffu, 0xffffffffu, 0xffffffffu, 0xffffffffu}, Key{0xffffffffu, 0xffffffffu}),
            (Counter{0x408f276du, 0x41c83b0eu, 0xa20bc7c6u, 0x6d5451fdu}));
  EXPECT_EQ(philox::philox4x32(Counter{0x243f6a88u, 0x85a308d3u, 0x13198a2eu, 0x03707344u}, Key{0xa4093822u, 0x299f31d0u}),
            (Counter{0xd16cfe09u, 0x94fdccebu, 0x5001e420u, 0x24126ea1u}));
}

// The generator is usable at compile time (the code generator may fold it).
static_assert(philox::philox4x32(Counter{0, 0, 0, 0}, Key{0, 0})[0] == 0x6627e8d5u);
static_assert(philox::uniformBits(0, 0, 0, 0) == (0x6627e8d5u >> 8));
static_assert(philoxUniform(0, 0, 0, 0) == float(0x6627e8d5u >> 8) * 0x1p-24f);

TEST(InterpPhilox, KeyAndCounterLayout) {
  // seed and salt form the key; index (low word first) then step form the counter.
  EXPECT_EQ(philox::makeKey(0x1122334455667788ull, 0x99aabbccull), (Key{0x55667788u, 0x99aabbccu}));
  EXPECT_EQ(philox::makeCounter(0x0000000700000005ull, 0x0000000300000002ull), (Counter{2, 3, 5, 7}));
  EXPECT_EQ(philox::uniformBits(9, 4, 5, 0x300000002ull), philox::philox4x32(Counter{2, 3, 5, 0}, Key{9, 4})[0] >> 8);
}

TEST(InterpPhilox, UniformIsInUnitIntervalAndOnTheTwentyFourBitGrid) {
  for (uint64_t i = 0; i < 10000; ++i) {
    float u = philoxUniform(123, 7, 3, i);
    ASSERT_GE(u, 0.0f);
    ASSERT_LT(u, 1.0f);
    double scaled = double(u) * 16777216.0;
    ASSERT_EQ(scaled, std::floor(scaled));
  }
}

TEST(InterpPhilox, SameKeySameStreamAndDifferentInputsDiffer) {
  int sameStep = 0, sameSalt = 0, sameSeed = 0;
  for (uint64_t i = 0; i < 1000; ++i) {
    EXPECT_EQ(philoxUniform(5, 1, 2, i), philoxUniform(5, 1, 2, i));
    sameStep += philoxUniform(5, 1, 2, i) == philoxUniform(5, 1, 3, i);
    sameSalt += philoxUniform(5, 1, 2, i) == philoxUniform(5, 2, 2, i);
    sameSeed += philoxUniform(5, 1, 2, i) == philoxUniform(6, 1, 2, i);
  }
  // Independent 24-bit values coincide with probability 2^-24.
  EXPECT_LE(sameStep, 1);
  EXPECT_LE(sameSalt, 1);
  EXPECT_LE(sameSeed, 1);
}

TEST(InterpPhilox, DropoutThresholdMatchesTheFloatComparison) {
  EXPECT_EQ(philox::dropoutThreshold(0.0), 0u);
  EXPECT_EQ(philox::dropoutThreshold(-1.0), 0u);
  EXPECT_EQ(philox::dropoutThreshold(0.5), 1u << 23);
  EXPECT_EQ(philox::dropoutThreshold(1.0), 1u << 24);
  EXPECT_EQ(philox::dropoutThreshold(0x1p-24), 1u);
  EXPECT_EQ(philox::dropoutThreshold(0x1p-25), 1u);
  for (double rate : {0.1, 0.2, 0.25, 1.0 / 3, 0.5, 0.9, 0.999}) {
    uint32_t t = philox::dropoutThreshold(rate);
    // t is the smallest 24-bit value whose uniform reaches the rate.
    EXPECT_GE(double(t) * 0x1p-24, rate) << rate;
    EXPECT_LT(double(t - 1) * 0x1p-24, rate) << rate;
  }
}

TEST(InterpPhilox, StepFromFloatTruncatesAndNeverOverflows) {
  EXPECT_EQ(philox::stepFromFloat(0.0), 0u);
  EXPECT_EQ(philox::stepFromFloat(3.9), 3u);
  EXPECT_EQ(philox::stepFromFloat(-2.0), 0u);
  EXPECT_EQ(philox::stepFromFloat(std::nan("")), 0u);
  EXPECT_EQ(philox::stepFromFloat(1e30), ~uint64_t(0));
  EXPECT_EQ(philox::stepFromFloat(16777216.0), 16777216u);
}

}  // namespace
}  // namespace nnc
