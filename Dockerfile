# A raftkv member in an image of its own: no base image, just the static
# binary (CGO_ENABLED=0), so it builds without any registry. Build it with
# `make image`, which compiles bin/linux/raftkv outside Docker first.
#
#   docker network create raftkv
#   docker run -d --network raftkv --name node1 raftkv:latest \
#     --id 1 --cluster http://node1:12379,http://node2:12379,http://node3:12379 --port 12380
#
# The data directory defaults to raftkv-<id> in the working directory, so it
# lands in the /data volume. 12379 is the peer (raft) port, 12380 the HTTP API.
FROM scratch
COPY bin/linux/raftkv /raftkv
WORKDIR /data
VOLUME /data
EXPOSE 12379 12380
ENTRYPOINT ["/raftkv"]
