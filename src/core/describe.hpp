#pragma once

// MSG_DESCRIBE_STRUCT: BOOST_DESCRIBE_STRUCT plus a compile-time check that the description
// names as many members as the aggregate has. The descriptions are the JSON mapping of data
// operations for the dbman tier's remote executor (issue 17) and of tenant patches; a member
// added to a struct but not to its description would silently not cross the wire, so it
// fails the build instead.

#include <boost/describe/class.hpp>
#include <boost/describe/members.hpp>
#include <boost/mp11/algorithm.hpp>

#include <cstddef>
#include <utility>

namespace msg::core::describe_check {

/// Converts to any member type: counting how many of these an aggregate accepts counts its
/// members.
struct AnyMember {
    template <class T>
    operator T() const;  // declared only: used in unevaluated contexts
};

template <class T, class... A>
concept BraceInitializable = requires {
    T{std::declval<A>()...};
};

template <class T, class... A>
constexpr std::size_t aggregate_members() {
    if constexpr (BraceInitializable<T, A..., AnyMember>) {
        return aggregate_members<T, A..., AnyMember>();
    } else {
        return sizeof...(A);
    }
}

template <class T>
constexpr std::size_t described_members() {
    return boost::mp11::mp_size<
        boost::describe::describe_members<T, boost::describe::mod_public>>::value;
}

}  // namespace msg::core::describe_check

#define MSG_DESCRIBE_STRUCT(C, Bases, Members)                             \
    BOOST_DESCRIBE_STRUCT(C, Bases, Members)                               \
    static_assert(::msg::core::describe_check::aggregate_members<C>() ==   \
                      ::msg::core::describe_check::described_members<C>(), \
                  "BOOST_DESCRIBE_STRUCT of " #C " must name every member of the struct");
