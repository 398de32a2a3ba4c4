// chipgauge serve [--listen ADDR:PORT] [--token-file FILE] [--token-required] [--history FILE]
// [--pubkey KEY.pub] [limits...]
#include "chipgauge/classifier/catalog.hpp"
#include "chipgauge/serve/server.hpp"
#include "commands.hpp"

#include <cstdlib>
#include <memory>

using chipgauge::classifier::catalog;

namespace chipgauge::cli {

void add_serve(CLI::App& app, const global_options& g, action& run) {
  auto o = std::make_shared<serve::server_options>();
  auto* cmd = app.add_subcommand(
      "serve",
      "answer classify, parts, rules, license, history and compare questions over HTTP "
      "(docs/api.md)");
  cmd->add_option("--listen", o->listen,
                  "ADDR:PORT to listen on; port 0 picks a free one (printed on stdout)")
      ->default_str(o->listen);
  cmd->add_option(
      "--token-file", o->token_file,
      "file holding the bearer token that write routes (and, with --token-required, all) need");
  cmd->add_flag("--token-required", o->token_required, "read routes need the token too");
  cmd->add_option("--max-body", o->max_body_bytes, "largest request body, bytes (larger: 413)")
      ->default_str("1048576");
  cmd->add_option("--max-header-bytes", o->max_header_bytes,
                  "largest request line and headers, bytes (larger: 431)")
      ->default_str("65536");
  cmd->add_option("--max-headers", o->max_headers, "most header fields in a request (more: 431)")
      ->default_str("100");
  cmd->add_option("--read-timeout", o->read_timeout,
                  "seconds to wait for the next bytes of a request")
      ->default_str("5");
  cmd->add_option("--write-timeout", o->write_timeout,
                  "seconds to wait to send the next bytes of a response")
      ->default_str("5");
  cmd->add_option("--request-timeout", o->request_timeout,
                  "seconds a whole request may take to arrive (slower: 408)")
      ->default_str("10");
  cmd->add_option("--keep-alive-max", o->keep_alive_max, "requests per connection")
      ->default_str("100");
  cmd->add_option("--keep-alive-timeout", o->keep_alive_timeout,
                  "seconds a connection may idle between requests")
      ->default_str("5");
  cmd->add_option("--threads", o->threads, "workers: connections served at once")
      ->default_str("16");
  cmd->add_option("--queue-limit", o->queue_limit, "connections waiting for a worker before 503")
      ->default_str("64");
  cmd->add_option("--rate-limit", o->rate_limit,
                  "requests per second per client address, 0 for none (more: 429)")
      ->default_str("0");
  cmd->add_option("--rate-burst", o->rate_burst,
                  "requests a client may send at once under --rate-limit (default: the rate)");
  cmd->add_option(
      "--history", o->history,
      "the history store for the ingest, history, compare and dashboard routes (default: "
      "$CHIPGAUGE_HISTORY; without either, those routes answer 503)");
  cmd->add_option(
         "--pubkey", o->pubkey,
         "the Ed25519 public key (PEM) a POSTed certificate must be signed by to be stored as "
         "verified (as history ingest --pubkey); without it signed certificates are stored "
         "unauthenticated")
      ->check(CLI::ExistingFile);
  cmd->add_option("--access-log", o->access_log,
                  "file for the JSON access log, one line per request (default: stderr)");
  cmd->callback([&run, &g, o] {
    run = [&g, o] {
      o->specs_dir = catalog::locate_specs_dir(g.specs_dir);
      // Only a store named on the command line or in the environment: a server does not write into
      // the default one of whoever starts it.
      if (const char* env = std::getenv("CHIPGAUGE_HISTORY"); o->history.empty() && env != nullptr)
        o->history = env;
      return serve::run(*o);
    };
  });
}

}  // namespace chipgauge::cli
