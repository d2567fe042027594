"""api.default_device: where models go when the caller does not say."""
import os
import unittest

import torch

from wmss_engine import api


class DefaultDeviceTest(unittest.TestCase):
    def setUp(self):
        self.saved = os.environ.pop("WMSS_DEVICE", None)

    def tearDown(self):
        os.environ.pop("WMSS_DEVICE", None)
        if self.saved is not None:
            os.environ["WMSS_DEVICE"] = self.saved

    def test_auto_is_the_gpu_when_there_is_one(self):
        want = "cuda" if torch.cuda.is_available() else "cpu"
        self.assertEqual(api.default_device(), want)
        self.assertEqual(api.default_device("auto"), want)

    def test_environment_and_explicit_values(self):
        os.environ["WMSS_DEVICE"] = "cpu"
        self.assertEqual(api.default_device(), "cpu")
        self.assertEqual(api.default_device("cpu"), "cpu")

    @unittest.skipIf(torch.cuda.is_available(), "a CUDA device is visible")
    def test_cuda_without_gpu_is_an_error(self):
        with self.assertRaisesRegex(ValueError, "no CUDA device"):
            api.default_device("cuda")


if __name__ == "__main__":
    unittest.main()
