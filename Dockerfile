# gatehouse: a static binary on a distroless base, running as a non-root
# user with no shell. Build: docker build -t gatehouse .
# Run:   docker run -p 8080:8080 -v gatehouse-data:/var/lib/gatehouse gatehouse
#
# The store is SQLite in /var/lib/gatehouse unless GATEHOUSE_DB names
# PostgreSQL; set GATEHOUSE_ISSUER to the URL clients use, and
# GATEHOUSE_KEK (32 random bytes, base64) from your secret store.

# BASE is the runtime image: the static one for the default pure-Go build;
# the BoringCrypto build links glibc and needs distroless/base:
#   docker build -t gatehouse:boring --build-arg GOEXPERIMENT=boringcrypto \
#     --build-arg CGO_ENABLED=1 --build-arg BASE=gcr.io/distroless/base-debian12:nonroot .
ARG BASE=gcr.io/distroless/static-debian12:nonroot

FROM golang:1.26-bookworm AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
# CGO_ENABLED=0: the SQLite driver is pure Go, so the binary is static.
# For the BoringCrypto build: --build-arg GOEXPERIMENT=boringcrypto,
# CGO_ENABLED=1 and BASE=gcr.io/distroless/base-debian12:nonroot (above).
ARG GOEXPERIMENT=
ARG CGO_ENABLED=0
RUN CGO_ENABLED=${CGO_ENABLED} GOEXPERIMENT=${GOEXPERIMENT} go build -trimpath -buildvcs=false \
      -ldflags="-s -w" -o /out/gatehouse ./cmd/gatehouse \
 && mkdir -p /out/data

FROM ${BASE}
COPY --from=build /out/gatehouse /gatehouse
COPY --from=build --chown=65532:65532 /out/data /var/lib/gatehouse
USER 65532:65532
ENV GATEHOUSE_ADDR=0.0.0.0:8080 \
    GATEHOUSE_DATA_DIR=/var/lib/gatehouse
VOLUME /var/lib/gatehouse
EXPOSE 8080
HEALTHCHECK --interval=10s --timeout=5s --start-period=10s --retries=3 \
  CMD ["/gatehouse", "healthcheck", "--url", "http://127.0.0.1:8080"]
ENTRYPOINT ["/gatehouse"]
CMD ["serve"]
