# syntax=docker/dockerfile:1
# Builds every command under app/cmd (the api now, the worker when it lands)
# as static binaries into one distroless, non-root image.
#   docker build -t scalestack-app .
#   docker run scalestack-app              # serves the API (/app/api)
#   docker run scalestack-app /app/api migrate
#   docker run scalestack-app /app/worker  # once app/cmd/worker exists

# The build stage runs natively and cross-compiles for the target platform (the fleets run arm64), so a
# multi-platform build needs no emulation.
FROM --platform=$BUILDPLATFORM golang:1.26.8-bookworm AS build
ARG TARGETOS=linux TARGETARCH=amd64
WORKDIR /src
ENV CGO_ENABLED=0 GOOS=$TARGETOS GOARCH=$TARGETARCH GOFLAGS=-buildvcs=false
COPY go.mod go.sum ./
COPY app/ app/
# Only the modules the app imports are fetched (not the Pulumi SDKs).
RUN --mount=type=cache,target=/go/pkg/mod \
    --mount=type=cache,target=/root/.cache/go-build \
    go build -trimpath -ldflags="-s -w" -o /out/ ./app/cmd/...

FROM gcr.io/distroless/static-debian12:nonroot
COPY --from=build /out/ /app/
USER nonroot:nonroot
EXPOSE 8080
CMD ["/app/api"]
