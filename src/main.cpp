// msg_server <role|command>: parse the name and the config, then hand over to app/.

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <string_view>
#include <vector>

#include "app/commands.hpp"
#include "app/config.hpp"
#include "app/roles.hpp"
#include "app/server.hpp"
#include "core/log.hpp"

namespace {
void usage() {
    std::fprintf(stderr, "usage: msg_server [role|command [args]]   (default: all)\nroles:");
    for (auto name : msg::app::role_names()) {
        std::fprintf(stderr, " %.*s", static_cast<int>(name.size()), name.data());
    }
    std::fprintf(stderr, "\ncommands:");
    for (auto name : msg::app::command_names()) {
        std::fprintf(stderr, " %.*s", static_cast<int>(name.size()), name.data());
    }
    std::fprintf(stderr, "\nconfiguration: environment variables, see .env.example\n");
}
}  // namespace

int main(int argc, char** argv) {
    const std::string_view role_name = argc > 1 ? argv[1] : "all";
    const auto* command = msg::app::find_command(role_name);
    const std::size_t extra = argc > 2 ? static_cast<std::size_t>(argc - 2) : 0;
    if ((extra > 0 && (command == nullptr || extra > command->max_args)) || role_name == "-h" ||
        role_name == "--help" || role_name == "help") {
        usage();
        return extra > 0 ? 2 : 0;
    }
    const std::vector<std::string_view> args(argv + std::min(argc, 2), argv + argc);
    auto config = msg::app::load_config([](const char* name) { return std::getenv(name); });
    if (!config) {
        std::fprintf(stderr, "msg_server: invalid configuration: %s\n",
                     config.error().message.c_str());
        return 2;
    }
    msg::core::init_logging(config->log);
    try {
        if (command != nullptr) return command->run(*config, args);
        auto role = msg::app::find_role(role_name);
        if (!role) {
            std::fprintf(stderr, "msg_server: unknown role \"%.*s\"\n",
                         static_cast<int>(role_name.size()), role_name.data());
            usage();
            return 2;
        }
        return msg::app::run_server(*config, *role);
    } catch (const std::exception& e) {
        msg::core::logger("app")->critical("fatal error=\"{}\"", e.what());
        return 1;
    }
}
