# Required before every Ruby program (`ruby -r`, see codyskool/languages.toml).
#
# Ruby buffers standard output when it is not a terminal, so `print "Name: "` followed by `gets`
# would block before the prompt is shown. Writing through, as on a terminal, fixes that.
$stdout.sync = true
$stderr.sync = true
