# The Gradio app (python -m digitwidget.app, as `make app` runs it) on 0.0.0.0:7860.
# Slim: Python, TensorFlow's CPU build and what the app imports; no compilers, no Jupyter,
# no training or test dependencies. Runs as a non-root user (uid 1000, as Hugging Face
# Spaces expects).
#   docker build -t digitwidget . && docker run --rm -p 7860:7860 digitwidget
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    TF_CPP_MIN_LOG_LEVEL=3 \
    GRADIO_ANALYTICS_ENABLED=False \
    GRADIO_SERVER_NAME=0.0.0.0 \
    GRADIO_SERVER_PORT=7860

# What the app needs at run time: the model (Keras on TensorFlow), the Predictor's
# preprocessing (NumPy, Pillow) and the page (Gradio, Plotly). Versions as in pyproject.toml.
RUN useradd --create-home --uid 1000 app \
    && pip install --no-cache-dir \
        "tensorflow-cpu>=2.16,<3" "keras>=3.3,<4" "numpy>=1.26,<3" "pillow>=10,<13" \
        "gradio>=6,<7" "plotly>=5.20,<8"

WORKDIR /home/app/digitwidget
COPY --chown=app:app digitwidget/ digitwidget/
COPY --chown=app:app models/digit_cnn.keras models/model_card.json models/
USER 1000

EXPOSE 7860
HEALTHCHECK --interval=30s --timeout=5s --start-period=60s --retries=3 \
    CMD ["python", "-c", "import urllib.request; urllib.request.urlopen('http://127.0.0.1:7860/gradio_api/info', timeout=4)"]

CMD ["python", "-m", "digitwidget.app"]
