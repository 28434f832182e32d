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

TEST(Tokenizer, IndexTextIsTheTokensJoinedBySpaces) {
    // Distinct, first seen first: the bigram 서버 is seen before the second unigram.
    EXPECT_EQ(index_text("Deploy v2, deploy 서버"), "deploy v2 서 서버 버");
    EXPECT_EQ(index_text("  !! "), "");
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

TEST(Tokenizer, TermDensityRewardsRepeatsAndBrevity) {
    const std::vector<std::string> terms{"배포"};
    const double twice_short = term_density("배포 배포", terms);
    const double once_short = term_density("배포 완료", terms);
    const double once_long = term_density("오늘 오후 세 시에 서버 배포를 진행할 예정입니다", terms);
    EXPECT_GT(twice_short, once_short);
    EXPECT_GT(once_short, once_long);
    EXPECT_EQ(term_density("점심", terms), 0.0);
    const std::vector<std::string> latin{"deploy"};
    EXPECT_GT(term_density("ＤＥＰＬＯＹ now", latin), 0.0);  // normalised like the search
}

TEST(Tokenizer, LongWordsAreCutToAPrefixTheDatabaseAccepts) {
    const std::string long_word(16000, 'z');
    const auto tokens = index_tokens(long_word);
    ASSERT_EQ(tokens.size(), 1u);
    EXPECT_EQ(tokens[0], std::string(kMaxWordBytes, 'z'));
    const auto q = parse_query(std::string(300, 'z'));
    ASSERT_EQ(q.prefixes.size(), 1u);
    EXPECT_EQ(q.prefixes[0].size(), kMaxWordBytes);
    EXPECT_TRUE(contains_all(long_word, q.terms));  // the whole term is still verified
    EXPECT_FALSE(contains_all(std::string(299, 'z'), q.terms));
    // Cut at a code point boundary: 2-byte letters never leave half a character.
    std::string e_acute;
    for (int i = 0; i < 200; ++i) e_acute += "é";
    const auto accented = index_tokens(e_acute);
    ASSERT_EQ(accented.size(), 1u);
    EXPECT_EQ(accented[0].size(), 254u);
}

}  // namespace
}  // namespace msg::search
