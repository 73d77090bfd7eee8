"""The test suite: each folder is a package, so files in different folders may share a name."""
