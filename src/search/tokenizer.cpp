#include "search/tokenizer.hpp"

#include <cmath>

#include <utf8proc.h>

#include <algorithm>
#include <cstdlib>
#include <unordered_set>

namespace msg::search {

namespace {

bool is_cjk(utf8proc_int32_t c) {
    return (c >= 0xAC00 && c <= 0xD7A3) ||  // Hangul syllables
           (c >= 0x1100 && c <= 0x11FF) ||  // Hangul Jamo
           (c >= 0x3130 && c <= 0x318F) ||  // Hangul compatibility Jamo
           (c >= 0x3040 && c <= 0x30FF) ||  // Hiragana, Katakana
           (c >= 0x3400 && c <= 0x4DBF) ||  // CJK extension A
           (c >= 0x4E00 && c <= 0x9FFF) ||  // CJK unified
           (c >= 0xF900 && c <= 0xFAFF) ||  // CJK compatibility
           (c >= 0x20000 && c <= 0x2FFFF);  // CJK extensions B…
}

bool is_word(utf8proc_int32_t c) {
    switch (utf8proc_category(c)) {
        case UTF8PROC_CATEGORY_LU:
        case UTF8PROC_CATEGORY_LL:
        case UTF8PROC_CATEGORY_LT:
        case UTF8PROC_CATEGORY_LM:
        case UTF8PROC_CATEGORY_LO:
        case UTF8PROC_CATEGORY_MN:
        case UTF8PROC_CATEGORY_MC:
        case UTF8PROC_CATEGORY_ND:
        case UTF8PROC_CATEGORY_NL:
        case UTF8PROC_CATEGORY_NO:
            return true;
        default:
            return c == '_';
    }
}

std::string encode(utf8proc_int32_t c) {
    utf8proc_uint8_t buf[4];
    auto n = utf8proc_encode_char(c, buf);
    return std::string(reinterpret_cast<const char*>(buf), static_cast<std::size_t>(n));
}

/// Splits normalized text into runs: (is_cjk, code points).
template <class F>
void runs(const std::string& text, F&& on_run) {
    std::vector<utf8proc_int32_t> run;
    bool run_cjk = false;
    auto flush = [&] {
        if (!run.empty()) on_run(run_cjk, run);
        run.clear();
    };
    const auto* p = reinterpret_cast<const utf8proc_uint8_t*>(text.data());
    utf8proc_ssize_t left = static_cast<utf8proc_ssize_t>(text.size());
    while (left > 0) {
        utf8proc_int32_t c = 0;
        auto n = utf8proc_iterate(p, left, &c);
        if (n <= 0) break;
        p += n;
        left -= n;
        const bool cjk = is_cjk(c);
        if (!cjk && !is_word(c)) {
            flush();
            continue;
        }
        if (!run.empty() && cjk != run_cjk) flush();
        run_cjk = cjk;
        run.push_back(c);
    }
    flush();
}

/// A word token: the run's first kMaxWordBytes bytes at most, cut at a code point boundary.
/// PostgreSQL refuses lexemes over 2047 bytes (a 16 KiB "zzz…" message failed its send); a
/// query word is cut the same way and matched as a prefix, and verification still compares
/// the whole term, so nothing that matches is lost.
std::string word_token(const std::vector<utf8proc_int32_t>& run) {
    std::string word;
    for (auto ch : run) {
        std::string next = encode(ch);
        if (word.size() + next.size() > kMaxWordBytes) break;
        word += next;
    }
    return word;
}

struct Collector {
    std::vector<std::string> out;
    std::unordered_set<std::string> seen;
    void add(std::string t) {
        if (out.size() >= kMaxIndexTokens || t.empty()) return;
        if (seen.insert(t).second) out.push_back(std::move(t));
    }
};

}  // namespace

std::string normalize(std::string_view text) {
    utf8proc_uint8_t* out = nullptr;
    const auto n =
        utf8proc_map(reinterpret_cast<const utf8proc_uint8_t*>(text.data()),
                     static_cast<utf8proc_ssize_t>(text.size()), &out,
                     static_cast<utf8proc_option_t>(UTF8PROC_STABLE | UTF8PROC_COMPOSE |
                                                    UTF8PROC_COMPAT | UTF8PROC_CASEFOLD));
    if (n < 0) return {};
    std::string s(reinterpret_cast<const char*>(out), static_cast<std::size_t>(n));
    std::free(out);
    return s;
}

std::vector<std::string> index_tokens(std::string_view text) {
    Collector c;
    runs(normalize(text), [&c](bool cjk, const std::vector<utf8proc_int32_t>& run) {
        if (!cjk) {
            c.add(word_token(run));
            return;
        }
        for (std::size_t i = 0; i < run.size(); ++i) {
            c.add(encode(run[i]));
            if (i + 1 < run.size()) c.add(encode(run[i]) + encode(run[i + 1]));
        }
    });
    return c.out;
}

Query parse_query(std::string_view q) {
    Query query;
    Collector exact, prefixes;
    const std::string normalized = normalize(q);
    runs(normalized, [&](bool cjk, const std::vector<utf8proc_int32_t>& run) {
        if (!cjk) {
            prefixes.add(word_token(run));
            return;
        }
        if (run.size() == 1) exact.add(encode(run[0]));
        for (std::size_t i = 0; i + 1 < run.size(); ++i) {
            exact.add(encode(run[i]) + encode(run[i + 1]));
        }
    });
    query.exact = std::move(exact.out);
    query.prefixes = std::move(prefixes.out);
    // Terms for verification: the normalized query split on white space.
    std::size_t i = 0;
    while (i < normalized.size()) {
        while (i < normalized.size() && (normalized[i] == ' ' || normalized[i] == '\t' ||
                                         normalized[i] == '\n' || normalized[i] == '\r')) {
            ++i;
        }
        std::size_t j = i;
        while (j < normalized.size() && normalized[j] != ' ' && normalized[j] != '\t' &&
               normalized[j] != '\n' && normalized[j] != '\r') {
            ++j;
        }
        if (j > i) query.terms.push_back(normalized.substr(i, j - i));
        i = j;
    }
    return query;
}

namespace {
std::string quoted(const std::string& token) {
    std::string out = "'";
    for (char ch : token) {
        if (ch == '\'')
            out += "''";
        else if (ch == '\\')
            out += "\\\\";
        else
            out += ch;
    }
    return out + "'";
}
}  // namespace

std::string to_tsquery(const Query& q) {
    std::string out;
    for (const auto& t : q.exact) {
        if (!out.empty()) out += " & ";
        out += quoted(t);
    }
    for (const auto& t : q.prefixes) {
        if (!out.empty()) out += " & ";
        out += quoted(t) + ":*";
    }
    return out;
}

bool contains_all(std::string_view text, const std::vector<std::string>& terms) {
    const std::string haystack = normalize(text);
    return std::all_of(terms.begin(), terms.end(),
                       [&](const std::string& t) { return haystack.find(t) != std::string::npos; });
}

double term_density(std::string_view text, const std::vector<std::string>& terms) {
    const std::string haystack = normalize(text);
    std::size_t hits = 0;
    for (const auto& t : terms) {
        if (t.empty()) continue;
        for (auto at = haystack.find(t); at != std::string::npos;
             at = haystack.find(t, at + t.size())) {
            ++hits;
        }
    }
    std::size_t points = 0;  // code points: bytes that do not continue a sequence
    for (unsigned char c : haystack) points += (c & 0xC0) != 0x80;
    return static_cast<double>(hits) / std::sqrt(static_cast<double>(points) + 1.0);
}

std::string index_text(std::string_view text) {
    std::string joined;
    for (const auto& token : index_tokens(text)) {
        if (!joined.empty()) joined += ' ';
        joined += token;
    }
    return joined;
}

}  // namespace msg::search
