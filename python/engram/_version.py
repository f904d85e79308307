"""The package's version: the engram release it reads (CMakeLists.txt `project(engram VERSION ...)`)."""
__version__ = "0.1.0"
