//! `nslab serve`: the editor and the API.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use nslab_model::Limits;

use super::{report_file_error, EXIT_BAD_INPUT, EXIT_FAILURE, EXIT_OK};
use crate::lab_file::read_lab;
use crate::{examples, server};

pub fn serve(file: Option<&Path>, listen: SocketAddr, web_root: Option<PathBuf>, limits: Limits) -> i32 {
    let lab = match file {
        Some(file) => match read_lab(file, &limits) {
            Ok(lab) => lab,
            Err(error) => return report_file_error(&error),
        },
        None => examples::example(examples::DEFAULT_EXAMPLE).expect("the default example is bundled"),
    };
    if !listen.ip().is_loopback() {
        eprintln!(
            "nslab: refusing to listen on {listen}: only loopback addresses (127.0.0.1, [::1]) are allowed for now"
        );
        return EXIT_BAD_INPUT;
    }
    let config = server::Config { listen, web_root: web_root.unwrap_or_else(server::default_web_root), limits };
    match server::run(config, lab) {
        Ok(()) => EXIT_OK,
        Err(error) => {
            eprintln!("nslab: {error}");
            EXIT_FAILURE
        }
    }
}
