// The search tokenizer (message bodies when stored, `q` when searching): search::normalize,
// index_tokens, parse_query, to_tsquery. Invariants: tokens are bounded, distinct, non-empty,
// space-free UTF-8; a message is always found by a search for its own text (every exact token
// of the query is an index token, every prefix starts one); the tsquery's quotes balance.
#include <cmath>
#include <set>
#include <string>
#include <string_view>

#include "fuzz/fuzz.hpp"
#include "search/tokenizer.hpp"

using namespace msg;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::string_view text(reinterpret_cast<const char*>(data), size);
    const std::string normalized = search::normalize(text);
    if (fuzz::valid_utf8(text)) FUZZ_CHECK(fuzz::valid_utf8(normalized));

    const auto tokens = search::index_tokens(text);
    FUZZ_CHECK(tokens.size() <= search::kMaxIndexTokens);
    const std::set<std::string> distinct(tokens.begin(), tokens.end());
    FUZZ_CHECK(distinct.size() == tokens.size());
    std::string joined;
    for (const auto& t : tokens) {
        FUZZ_CHECK(!t.empty() && t.size() <= search::kMaxWordBytes);
        FUZZ_CHECK(t.find(' ') == std::string::npos);
        FUZZ_CHECK(fuzz::valid_utf8(t));
        if (!joined.empty()) joined += ' ';
        joined += t;
    }
    FUZZ_CHECK(search::index_text(text) == joined);

    const auto query = search::parse_query(text);
    FUZZ_CHECK(search::contains_all(text, query.terms));
    if (tokens.size() < search::kMaxIndexTokens) {
        for (const auto& e : query.exact) FUZZ_CHECK(distinct.contains(e));
        for (const auto& p : query.prefixes) {
            auto it = distinct.lower_bound(p);
            FUZZ_CHECK(it != distinct.end() && it->compare(0, p.size(), p) == 0);
        }
    }
    const std::string tsquery = search::to_tsquery(query);
    std::size_t quotes = 0;
    for (char c : tsquery) quotes += c == '\'' ? 1 : 0;
    FUZZ_CHECK(quotes % 2 == 0);
    FUZZ_CHECK(query.empty() == tsquery.empty());

    const double density = search::term_density(text, query.terms);
    FUZZ_CHECK(std::isfinite(density) && density >= 0);
    return 0;
}
