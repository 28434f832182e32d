#include "testing/redis_server.hpp"

#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <stdexcept>
#include <thread>
#include <vector>

#include "redis/connection.hpp"

namespace msg::testing {

namespace {

unsigned short free_port() {
    const int s = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof a;
    if (s < 0 || ::bind(s, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0 ||
        ::getsockname(s, reinterpret_cast<sockaddr*>(&a), &len) != 0) {
        throw std::runtime_error("no free port");
    }
    ::close(s);
    return ntohs(a.sin_port);
}

}  // namespace

RedisServer::RedisServer() : port_(free_port()) { start(); }

RedisServer::~RedisServer() { stop(); }

void RedisServer::start() {
    if (pid_ > 0) return;
    const char* bin = std::getenv("MSG_TEST_REDIS_SERVER");
    const std::string program = bin != nullptr && *bin != '\0' ? bin : "redis-server";
    const std::string port = std::to_string(port_);
    std::vector<std::string> args = {program,     "--port",    port,       "--bind",
                                     "127.0.0.1", "--save",    "",         "--appendonly",
                                     "no",        "--logfile", "/dev/null"};
    std::vector<char*> argv;
    argv.reserve(args.size() + 1);
    for (auto& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    pid_ = ::fork();
    if (pid_ < 0) throw std::runtime_error("fork failed");
    if (pid_ == 0) {
        ::execvp(argv[0], argv.data());
        ::_exit(127);
    }
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
    for (;;) {
        try {
            redis::Connection c(address(), std::chrono::milliseconds(500));
            c.command({"PING"});
            return;
        } catch (const std::exception&) {
            int status = 0;
            if (::waitpid(pid_, &status, WNOHANG) == pid_) {
                pid_ = -1;
                throw std::runtime_error(program +
                                         " did not start (is redis-server installed? "
                                         "scripts/install-deps.sh installs it)");
            }
            if (std::chrono::steady_clock::now() > deadline) {
                std::string message = program;
                message += " did not answer on port ";
                message += port;
                throw std::runtime_error(message);
            }
            std::this_thread::sleep_for(std::chrono::milliseconds(20));
        }
    }
}

void RedisServer::stop() {
    if (pid_ <= 0) return;
    ::kill(pid_, SIGKILL);
    ::waitpid(pid_, nullptr, 0);
    pid_ = -1;
}

}  // namespace msg::testing
