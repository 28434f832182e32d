#include <gtest/gtest.h>

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

#include "chat/model.hpp"

namespace msg::chat {
namespace {

namespace json = boost::json;

TEST(MetaJson, MatchesTheSeedShape) {
    EXPECT_EQ(make_meta_json({}), R"({"emojis":null})");
    Attachments a;
    a.emojis = std::vector<std::string>{"😀"};
    a.file_ids = {7, 9};
    EXPECT_EQ(make_meta_json(a), R"({"emojis":["😀"],"file_id":7,"file_ids":[7,9]})");
}

TEST(MentionTokens, FindsAsciiAndKoreanTokensOnce) {
    EXPECT_EQ(mention_tokens("hi @kim and @김철수님, @kim again"),
              (std::vector<std::string>{"kim", "김철수님"}));
    EXPECT_EQ(mention_tokens("mail me at a@b.com"), (std::vector<std::string>{"b"}));
    EXPECT_TRUE(mention_tokens("no mentions @ here @ ").empty());
    EXPECT_EQ(mention_tokens("@dev_lead: ok"), (std::vector<std::string>{"dev_lead"}));
}

TEST(Summary, KindsAndTexts) {
    Message m;
    m.body = "hello";
    EXPECT_EQ(message_kind(json::parse(R"({"emojis":null})")), "text");
    EXPECT_EQ(message_kind(json::parse(R"({"emojis":["x"]})")), "emoji");
    EXPECT_EQ(message_kind(json::parse(R"({"emojis":["x"],"file_id":1,"file_ids":[1]})")), "file");
    EXPECT_EQ(message_summary(m, json::parse(R"({"emojis":null})")), "hello");
    EXPECT_EQ(message_summary(m, json::parse(R"({"file_ids":[1]})")), "[파일]");
    m.body = "";
    EXPECT_EQ(message_summary(m, json::parse(R"({"emojis":["x"]})")), "[이모지]");
    EXPECT_EQ(message_summary(m, json::parse(R"({"emojis":null})")), "");
    m.body.clear();
    for (int i = 0; i < 130; ++i) m.body += "가";
    auto s = message_summary(m, json::parse("{}"));
    EXPECT_EQ(s.size(), 120u * 3);  // 120 characters, never half of one
}

TEST(MessageJson, CarriesParsedFormsAndSeq) {
    Message m{"acme",
              5,
              3,
              2,
              9,
              "hi @kim",
              R"({"emojis": ["😀"], "file_id": 4, "file_ids": [4]})",
              std::string("c-1"),
              "2026-01-01T00:00:00Z",
              0};
    auto v = to_json(m);
    const auto& o = v.as_object();
    EXPECT_EQ(o.at("seq").as_int64(), 2);
    EXPECT_EQ(o.at("meta_json").as_string(), m.meta_json);
    EXPECT_EQ(json::serialize(o.at("emojis")), R"(["😀"])");
    EXPECT_EQ(json::serialize(o.at("file_ids")), "[4]");
    EXPECT_EQ(json::serialize(o.at("mentions")), R"(["kim"])");
    EXPECT_EQ(o.at("client_msg_id").as_string(), "c-1");
    m.client_msg_id.reset();
    EXPECT_FALSE(to_json(m).as_object().contains("client_msg_id"));
}

TEST(ChatModel, RelevanceOrderFusesTextAndVectorRanks) {
    // Page (newest first): 0, 1, 2, 3.
    // Text ranks: 2 (0.9), 0 (0.5), 3 (0.4), 1 (0.1). Vector ranks: 1 (0.95), 2 (0.9); 0 and 3
    // unknown to the vector index.
    const std::vector<double> text{0.5, 0.1, 0.9, 0.4};
    const std::vector<std::optional<double>> vec{std::nullopt, 0.95, 0.9, std::nullopt};
    // Fused: 2 = 1/61 + 1/62, 1 = 1/64 + 1/61, 0 = 1/62, 3 = 1/63.
    EXPECT_EQ(relevance_order(text, vec), (std::vector<std::size_t>{2, 1, 0, 3}));
    // Without vectors: the text order; equal scores keep newest first.
    const std::vector<std::optional<double>> none(4);
    EXPECT_EQ(relevance_order(text, none), (std::vector<std::size_t>{2, 0, 3, 1}));
    const std::vector<double> flat{1, 1, 1};
    EXPECT_EQ(relevance_order(flat, std::vector<std::optional<double>>(3)),
              (std::vector<std::size_t>{0, 1, 2}));
    EXPECT_TRUE(relevance_order({}, {}).empty());
}

}  // namespace
}  // namespace msg::chat
