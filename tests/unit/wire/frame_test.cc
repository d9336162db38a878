#include "core/wire/frame.h"

#include <gtest/gtest.h>

namespace lashup::wire {
namespace {

TEST(Frame, reassembles_frames_split_across_reads) {
  const Bytes a{1, 2, 3};
  const Bytes b{4, 5};
  Bytes stream = encode_frame(a);
  const Bytes second = encode_frame(b);
  stream.insert(stream.end(), second.begin(), second.end());

  FrameAssembler assembler;
  for (uint8_t byte : stream) ASSERT_TRUE(assembler.feed(ByteView(&byte, 1)));
  EXPECT_EQ(assembler.next(), a);
  EXPECT_EQ(assembler.next(), b);
  EXPECT_FALSE(assembler.next().has_value());
  EXPECT_EQ(assembler.buffered_bytes(), 0u);
}

TEST(Frame, refuses_a_frame_over_the_limit_before_buffering_it) {
  FrameAssembler assembler(16);
  const Bytes header{0, 0, 0, 17};
  const Status s = assembler.feed(header);
  EXPECT_EQ(s.code(), StatusCode::too_large);
  EXPECT_EQ(assembler.buffered_bytes(), 0u);
  // Once failed, the stream is unusable.
  const Bytes ok_frame = encode_frame(Bytes{1});
  EXPECT_FALSE(assembler.feed(ok_frame));
}

TEST(Frame, refuses_an_empty_frame) {
  FrameAssembler assembler;
  const Bytes header{0, 0, 0, 0};
  EXPECT_EQ(assembler.feed(header).code(), StatusCode::invalid);
}

}  // namespace
}  // namespace lashup::wire
