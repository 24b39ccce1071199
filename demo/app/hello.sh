#!/bin/sh
# The sample app of `make demo`: ocinoco puts this directory into an image as /app; the demo
# runs it from there.
echo "Hello from an image built by ocinoco, with no container and no daemon!"
echo "I run as uid $(id -u), gid $(id -g), in $(pwd)."
echo "GREETING is: $GREETING"
cat /app/static/message.txt
