#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace msg::search {

/// NFKC + case folding (utf8proc): full-width letters become ASCII, `Ａ` and `a` compare
/// equal, composed and decomposed Hangul become the same syllables. Invalid UTF-8 → "".
std::string normalize(std::string_view text);

/// Index tokens of a text (ARCHITECTURE §9), after normalize():
/// - a run of letters/digits outside the CJK scripts is one word (`deploy`, `v2`);
/// - a run of Hangul/CJK/kana characters gives every character (unigram) and every pair of
///   neighbours (bigram): `서버에서` → 서, 버, 에, 서, 서버, 버에, 에서. Korean particles stick to
///   nouns without spaces, so matching on character n-grams finds `서버` in `서버에서`;
/// - everything else separates tokens.
/// Distinct, in first-seen order, at most kMaxIndexTokens.
std::vector<std::string> index_tokens(std::string_view text);

/// index_tokens() joined by single spaces (a token never contains one): the text form that
/// operations turn into a tsvector with string_to_array (one array parameter per batch).
std::string index_text(std::string_view text);

/// What a query must match: for each CJK run of the query its bigrams (or its single
/// character), for each word the word as a prefix (`Query::prefixes`). Every one must be in
/// the message (AND); callers then verify with contains_all() to drop bigram false positives.
struct Query {
    std::vector<std::string> exact;     // CJK unigrams/bigrams
    std::vector<std::string> prefixes;  // words, matched as word prefixes
    std::vector<std::string> terms;     // normalized whitespace-separated terms, for contains_all
    bool empty() const { return exact.empty() && prefixes.empty(); }
};
Query parse_query(std::string_view q);

/// The tsquery text of a query: every token quoted, `:*` on prefixes, joined with `&`.
std::string to_tsquery(const Query& q);

/// True when normalize(text) contains every term (each a normalized substring).
bool contains_all(std::string_view text, const std::vector<std::string>& terms);

/// A text rank for ordering matches: occurrences of the terms in normalize(text), divided by
/// the square root of its length in code points (a short message that says it twice beats a
/// long one that says it once).
double term_density(std::string_view text, const std::vector<std::string>& terms);

inline constexpr std::size_t kMaxIndexTokens = 4096;
inline constexpr std::size_t kMaxWordBytes = 255;  // longer words are indexed by their prefix

}  // namespace msg::search
