# test_small.py: a small unittest suite, run with python3 -m unittest.
import unittest
class T(unittest.TestCase):
    def test_add(self): self.assertEqual(1 + 1, 2)
    def test_str(self): self.assertIn("vm", "lbvm")
    def test_raise(self):
        with self.assertRaises(ZeroDivisionError): 1 / 0
if __name__ == "__main__": unittest.main()
