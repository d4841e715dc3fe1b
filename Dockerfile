# The runtime's container image for the Kubernetes target: the same self-contained bundle that
# instances install (Node.js, onnxruntime for this architecture, the compiled runtime), plus the
# example model repository at /models (mount a volume over it to serve your own).
#   docker build -t <registry>/onnx-fleet-runtime:<version> .
FROM node:20-bookworm-slim AS build
WORKDIR /src
COPY package.json package-lock.json .npmrc ./
RUN npm ci --no-audit --no-fund
COPY . .
ARG TARGETARCH
RUN npm run build \
 && node dist/cli/index.js bundle --arch "$([ "$TARGETARCH" = arm64 ] && echo arm64 || echo x64)" \
 && mkdir /bundle \
 && tar -xzf dist/bundle/onnx-fleet-runtime-linux-*.tar.gz -C /bundle

FROM debian:bookworm-slim
RUN groupadd --system --gid 10001 onnx-fleet \
 && useradd --system --uid 10001 --gid onnx-fleet --no-create-home --shell /usr/sbin/nologin onnx-fleet \
 && mkdir -p /var/lib/onnx-fleet && chown onnx-fleet:onnx-fleet /var/lib/onnx-fleet
COPY --from=build /bundle /opt/onnx-fleet
COPY --from=build /src/models /models
ENV ONNX_FLEET_HOST=0.0.0.0 ONNX_FLEET_MODEL_REPOSITORY=/models
USER 10001:10001
EXPOSE 8080
ENTRYPOINT ["/opt/onnx-fleet/bin/onnx-fleet"]
CMD ["serve"]
