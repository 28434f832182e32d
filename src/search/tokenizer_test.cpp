#include <gtest/gtest.h>

#include <algorithm>

#include "search/tokenizer.hpp"

namespace msg::search {
namespace {

bool has(const std::vector<std::string>& tokens, const std::string& t) {
    return std::find(tokens.begin(), tokens.end(), t) != tokens.end();
}

TEST(Tokenizer, KoreanParticlesStillMatchTheNoun) {
    auto tokens = index_tokens("서버에서 배포를 시작합니다");
    EXPECT_TRUE(has(tokens, "서버"));
    EXPECT_TRUE(has(tokens, "배포"));
    EXPECT_TRUE(has(tokens, "서"));
    EXPECT_FALSE(has(tokens, "서버에서"));  // runs are split into n-grams, not kept whole
    auto q = parse_query("서버");
    EXPECT_EQ(q.exact, std::vector<std::string>{"서버"});
    EXPECT_TRUE(q.prefixes.empty());
    EXPECT_TRUE(contains_all("서버에서 배포", q.terms));
    EXPECT_FALSE(contains_all("서비스 버전", q.terms));  // bigram "서버" absent anyway
}

TEST(Tokenizer, BigramFalsePositivesAreRemovedByVerification) {
    // "서버" + "버전": the message has bigrams 서버 and 버전 but not the term 서버전.
    auto q = parse_query("서버전");
    EXPECT_EQ(q.exact, (std::vector<std::string>{"서버", "버전"}));
    EXPECT_FALSE(contains_all("서버 버전", q.terms));
    EXPECT_TRUE(contains_all("새 서버전용", q.terms));
}

TEST(Tokenizer, SingleCharacterQueriesUseUnigrams) {
    auto q = parse_query("버");
    EXPECT_EQ(q.exact, std::vector<std::string>{"버"});
    EXPECT_TRUE(has(index_tokens("서버"), "버"));
}

TEST(Tokenizer, LatinWordsAreCaseFoldedAndMatchedAsPrefixes) {
    auto tokens = index_tokens("Deploy the API-Server v2 NOW");
    EXPECT_TRUE(has(tokens, "deploy"));
    EXPECT_TRUE(has(tokens, "api"));
    EXPECT_TRUE(has(tokens, "server"));
    EXPECT_TRUE(has(tokens, "v2"));
    auto q = parse_query("SERV deploy");
    EXPECT_EQ(q.prefixes, (std::vector<std::string>{"serv", "deploy"}));
    EXPECT_EQ(to_tsquery(q), "'serv':* & 'deploy':*");
}

TEST(Tokenizer, MixedScriptsSplitAtTheBoundary) {
    auto tokens = index_tokens("API서버");
    EXPECT_TRUE(has(tokens, "api"));
    EXPECT_TRUE(has(tokens, "서버"));
    auto q = parse_query("API서버");
    EXPECT_EQ(q.prefixes, std::vector<std::string>{"api"});
    EXPECT_EQ(q.exact, std::vector<std::string>{"서버"});
}

TEST(Tokenizer, NfkcFoldsFullWidthAndDecomposedHangul) {
    EXPECT_EQ(normalize("ＡＢＣ１２３"), "abc123");
    // 한 as conjoining Jamo (ᄒ ᅡ ᆫ) composes to the syllable.
    EXPECT_EQ(normalize("\u1112\u1161\u11AB"), "한");
    EXPECT_TRUE(contains_all("ＳＥＲＶＥＲ down", parse_query("server").terms));
}

TEST(Tokenizer, EmojiAndPunctuationSeparate) {
    auto tokens = index_tokens("배포🚀완료!! ok?");
    EXPECT_TRUE(has(tokens, "배포"));
    EXPECT_TRUE(has(tokens, "완료"));
    EXPECT_FALSE(has(tokens, "포완"));  // the emoji splits the run
    EXPECT_TRUE(has(tokens, "ok"));
    EXPECT_TRUE(parse_query("🚀 !!").empty());
}

TEST(Tokenizer, QuotesInTokensAreEscapedForTsquery) {
    Query q;
    q.prefixes = {"it's", "a\\b"};
    EXPECT_EQ(to_tsquery(q), "'it''s':* & 'a\\\\b':*");
}

TEST(Tokenizer, LongInputIsBounded) {
    std::string text;
    for (int i = 0; i < 20000; ++i) text += "w" + std::to_string(i) + " ";
    EXPECT_EQ(index_tokens(text).size(), kMaxIndexTokens);
    EXPECT_TRUE(index_tokens("").empty());
    EXPECT_EQ(normalize("\xff\xfe"), "");  // invalid UTF-8
}

}  // namespace
}  // namespace msg::search
