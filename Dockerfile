# `pocket serve` in a container: built on Debian bookworm, run on bookworm-slim as a non-root user,
# with the model store ($POCKET_HOME) as a volume. The binary picks its kernels at run time
# (AVX2 / AVX-VNNI / AVX-512 on x86-64; dotprod / i8mm on arm64), so one image serves every host
# of its architecture.
#
#   docker build -t pocket .
#   docker run --rm -v pocket-store:/var/lib/pocket pocket pull smolvlm2-256m
#   docker run --rm -p 8080:8080 -v pocket-store:/var/lib/pocket pocket serve -m smolvlm2-256m \
#       --host 0.0.0.0 --api-key "$KEY"
#
# deploy/kubernetes/ runs it on a cluster; tests/deploy/check_deploy.py checks offline that the
# runtime stage below installs a package for every library the binary links.

FROM debian:bookworm AS build
RUN apt-get update \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
      build-essential cmake ninja-build pkg-config \
      libavformat-dev libavcodec-dev libswscale-dev libavutil-dev \
      libjpeg62-turbo-dev libpng-dev libwebp-dev libgif-dev libtiff-dev \
      libpcre2-dev libutf8proc-dev nlohmann-json3-dev libcpp-httplib-dev libcurl4-openssl-dev libssl-dev \
      libcli11-dev libfmt-dev \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /src
COPY . .
RUN cmake -S . -B /build -G Ninja -DCMAKE_BUILD_TYPE=Release -DPOCKET_BUILD_TESTS=OFF -DPOCKET_BUILD_BENCHES=OFF \
 && cmake --build /build --target pocket

FROM debian:bookworm-slim
# runtime-packages: the libraries `pocket` links (tests/deploy/check_deploy.py reads this list)
RUN apt-get update \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
      ca-certificates \
      libavformat59 libavcodec59 libswscale6 libavutil57 \
      libjpeg62-turbo libpng16-16 libwebp7 libwebpdemux2 libgif7 libtiff6 \
      libpcre2-8-0 libutf8proc2 libcpp-httplib0.11 libcurl4 libssl3 libfmt9 \
 && rm -rf /var/lib/apt/lists/* \
 && useradd --system --uid 10001 --user-group --home-dir /var/lib/pocket --create-home pocket
COPY --from=build /build/bin/pocket /usr/local/bin/pocket
ENV POCKET_HOME=/var/lib/pocket
VOLUME /var/lib/pocket
USER 10001:10001
EXPOSE 8080
ENTRYPOINT ["/usr/local/bin/pocket"]
CMD ["serve", "--help"]
