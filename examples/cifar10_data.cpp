// Gets CIFAR-10 (binary release) into a data folder and checks it:
//   cifar10_data                         download the official archive (curl/wget) and extract it
//   cifar10_data --from FILE             extract a local cifar-10-binary.tar.gz instead
//   cifar10_data --verify                only check the six files against the published MD5s
// The six .bin files end up in DATA/cifar-10-batches-bin/, all verified, or nothing changes.
// Errors: one line on stderr naming the file, exit code 2.
#include <cstdio>
#include <cstdlib>

#include <atomic>

#include "ann/data/cifar10_fetch.hpp"
#include "ann/io/signals.hpp"
#include "cli.hpp"

#ifndef ANN_DEFAULT_DATA_DIR
#define ANN_DEFAULT_DATA_DIR "data"
#endif

int main(int argc, char** argv) {
    std::string data_dir = ANN_DEFAULT_DATA_DIR, archive;
    if (const char* env = std::getenv("ANN_DATA")) data_dir = env;
    bool verify_only = false, force = false, keep = false;
    CLI::App app{"Download or extract CIFAR-10 (binary release) and verify it against the published MD5s."};
    app.add_option("--data", data_dir, "Data folder (env ANN_DATA); files go to DATA/cifar-10-batches-bin/")
        ->capture_default_str();
    app.add_option("--from", archive, "Extract this local cifar-10-binary.tar.gz instead of downloading");
    app.add_flag("--verify", verify_only, "Only verify the files already there");
    app.add_flag("--force", force, "Download/extract even if valid files are already there");
    app.add_flag("--keep-archive", keep, "Keep the downloaded archive in the data folder");
    if (const int rc = cli::parse(app, argc, argv, "cifar10_data"); rc >= 0) return rc;
    // Ctrl-C stops the extraction at the next member and removes its temporary folder.
    static std::atomic<bool> stop{false};
    ann::io::on_signal_request_stop(&stop);
    return cli::run("cifar10_data", [&] {
        namespace d = ann::data;
        const std::string dir = d::cifar10_dir(data_dir);
        if (verify_only) {
            d::verify_cifar10(dir);
            std::printf("%s: all six files present with the published MD5s\n", dir.c_str());
            return;
        }
        if (archive.empty() && !force && d::cifar10_present(dir)) {
            d::verify_cifar10(dir);
            std::printf("%s: already there and verified (use --force to fetch again)\n", dir.c_str());
            return;
        }
        std::string parent = std::filesystem::path(dir).parent_path().string();
        if (parent.empty()) parent = ".";
        std::unique_ptr<d::Cifar10Download> download;  // removed at the end unless kept
        if (archive.empty()) {
            std::printf("downloading %s ...\n", d::cifar10_url());
            std::fflush(stdout);
            download = d::download_cifar10(parent);
            archive = download->path();
        }
        for (const auto& f : d::extract_cifar10(archive, parent))
            std::printf("%s: replaced by the verified copy from %s\n", f.c_str(), archive.c_str());
        std::printf("%s: extracted and verified\n", dir.c_str());
        if (download && keep) {
            if (download->keep())
                std::printf("kept the archive as %s\n", download->dest().c_str());
            else
                std::printf("%s is already there: left as it was, the download removed\n", download->dest().c_str());
        }
    });
}
