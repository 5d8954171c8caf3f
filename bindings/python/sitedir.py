"""Print where `make install` puts the shmring package for PREFIX (argv[1]).

Debian's python3 looks in /usr/lib/python3/dist-packages (its packages)
and PREFIX/lib/python3.X/dist-packages for PREFIX=/usr/local; other
interpreters use the standard posix_prefix scheme.
"""
import sys
import sysconfig

prefix = sys.argv[1]
if "deb_system" in sysconfig.get_scheme_names():
    if prefix == "/usr":
        print(sysconfig.get_path("platlib", "deb_system",
                                 {"base": prefix, "platbase": prefix}))
    else:
        print("%s/lib/python%d.%d/dist-packages" %
              (prefix, sys.version_info[0], sys.version_info[1]))
else:
    print(sysconfig.get_path("platlib", "posix_prefix",
                             {"base": prefix, "platbase": prefix}))
