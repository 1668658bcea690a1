//! How file paths are shown to people.

/// py-spy-style short paths: the part after site-packages or the stdlib directory, else relative
/// to the target's working directory, else the path as it is.
pub fn short_filename(path: &str, cwd: &str) -> String {
    for marker in ["/site-packages/", "/dist-packages/"] {
        if let Some((_, rest)) = path.rsplit_once(marker) {
            return rest.to_string();
        }
    }
    if let Some(index) = path.find("/lib/python3.") {
        let after = &path[index + "/lib/python3.".len()..];
        if let Some((_, rest)) = after.split_once('/') {
            return rest.to_string();
        }
    }
    if !cwd.is_empty() && cwd != "/" {
        if let Some(rest) = path.strip_prefix(cwd).and_then(|r| r.strip_prefix('/')) {
            return rest.to_string();
        }
    }
    path.to_string()
}

#[cfg(test)]
mod tests {
    use super::short_filename;

    #[test]
    fn short_filenames_drop_the_install_prefix() {
        assert_eq!(short_filename("/usr/lib/python3.11/threading.py", "/home/u"), "threading.py");
        assert_eq!(short_filename("/venv/lib/python3.12/site-packages/requests/api.py", "/"), "requests/api.py");
        assert_eq!(short_filename("/home/u/proj/app.py", "/home/u/proj"), "app.py");
        assert_eq!(short_filename("/srv/app.py", "/home/u"), "/srv/app.py");
        assert_eq!(short_filename("<frozen importlib._bootstrap>", "/"), "<frozen importlib._bootstrap>");
    }
}
